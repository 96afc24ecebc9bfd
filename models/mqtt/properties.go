package mqtt

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// MQTT 5 properties as the models keep them: user properties as JSON
// text, a list of [name, value] pairs (an object could neither keep their
// order nor a repeated name, both of which MQTT 5 allows).

// MaxUserPropertiesText bounds a signal's user_properties text: the
// properties travel in every PUBLISH of the signal.
const MaxUserPropertiesText = 64 << 10

// UserPropertiesJSON is the stored text of user properties; nil (NULL)
// for none.
func UserPropertiesJSON(props []UserProperty) any {
	if len(props) == 0 {
		return nil
	}
	pairs := make([][2]string, len(props))
	for i, p := range props {
		// Stored as text: a name or value that is not UTF-8 (MQTT 5
		// requires UTF-8, a broker may not check) keeps its bytes as U+FFFD.
		pairs[i] = [2]string{strings.ToValidUTF8(p.Key, "\uFFFD"), strings.ToValidUTF8(p.Value, "\uFFFD")}
	}
	b, _ := json.Marshal(pairs)
	return string(b)
}

// ParseUserProperties reads user_properties text: empty, or a JSON list
// of [name, value] pairs of strings.
func ParseUserProperties(text string) ([]UserProperty, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	if len(text) > MaxUserPropertiesText {
		return nil, fmt.Errorf("longer than %d bytes", MaxUserPropertiesText)
	}
	var pairs []json.RawMessage
	if err := json.Unmarshal([]byte(text), &pairs); err != nil {
		return nil, fmt.Errorf(`want a JSON list of [name, value] pairs, like [["unit", "C"]]`)
	}
	out := make([]UserProperty, 0, len(pairs))
	for i, raw := range pairs {
		// Pointers, as a JSON null would otherwise decode as "".
		var pair []*string
		if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 || pair[0] == nil || pair[1] == nil {
			return nil, fmt.Errorf("item %d is not a [name, value] pair of strings", i+1)
		}
		name, value := *pair[0], *pair[1]
		if !utf8.ValidString(name) || !utf8.ValidString(value) || name == "" {
			return nil, fmt.Errorf("item %d: a name must be non-empty text", i+1)
		}
		out = append(out, UserProperty{Key: name, Value: value})
	}
	return out, nil
}

// checkProperties validates a signal's MQTT 5 fields, naming the field.
func checkProperties(r *models.Record) error {
	if _, err := ParseUserProperties(r.Str("user_properties")); err != nil {
		return models.ValidationErrorf("User properties: %v.", err)
	}
	if v := r.Int("message_expiry"); v < 0 {
		return models.ValidationErrorf("Message expiry (s): %d is negative.", v)
	}
	if ct := r.Str("content_type"); len(ct) > 1024 {
		return models.ValidationErrorf("Content type: longer than 1024 bytes.")
	}
	return nil
}

// signalProperties are the MQTT 5 properties a loaded signal sends.
func signalProperties(r *models.Record) Properties {
	props, _ := ParseUserProperties(r.Str("user_properties")) // checkProperties validated it
	return Properties{ContentType: r.Str("content_type"), UserProperties: props, MessageExpiry: uint32(max(r.Int("message_expiry"), 0))}
}
