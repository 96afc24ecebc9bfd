package mqtt

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// Payload encodings: how the text of a payload (a signal's payload, the
// payload argument of mqtt.broker.action_publish) becomes the bytes
// sent. A binary payload cannot be typed as text, so it is written as
// base64 or hex and decoded before sending.
const (
	EncodingRaw    = "raw"    // the text's UTF-8 bytes, as the addon sends
	EncodingText   = "text"   // action_publish's name for raw
	EncodingJSON   = "json"   // raw, once checked to be one JSON value
	EncodingBase64 = "base64" // standard base64; whitespace is ignored
	EncodingHex    = "hex"    // two hex digits a byte; whitespace and ':' ignored
)

// signalEncodings are mqtt.signal.payload_encoding's values.
var signalEncodings = models.Choices(EncodingRaw, "Raw text", EncodingBase64, "Base64", EncodingHex, "Hex")

// DecodePayload turns payload text into the bytes to send. The error
// names what is wrong (the offending position for JSON), for a
// ValidationError.
func DecodePayload(text, encoding string) ([]byte, error) {
	switch encoding {
	case "", EncodingRaw, EncodingText:
		return []byte(text), nil
	case EncodingJSON:
		if err := checkJSON(text); err != nil {
			return nil, err
		}
		return []byte(text), nil
	case EncodingBase64:
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(text), ""))
		if err != nil {
			return nil, fmt.Errorf("not valid base64: %v", err)
		}
		return b, nil
	case EncodingHex:
		clean := strings.NewReplacer(":", "", " ", "", "\n", "", "\r", "", "\t", "").Replace(text)
		clean = strings.TrimPrefix(strings.TrimPrefix(clean, "0x"), "0X")
		b, err := hex.DecodeString(clean)
		if err != nil {
			return nil, fmt.Errorf("not valid hex (two hex digits a byte): %v", err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%q is not an encoding (text, json, base64 or hex)", encoding)
}

// checkJSON says where text stops being one JSON value.
func checkJSON(text string) error {
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("not valid JSON: empty")
	}
	var v any
	err := json.Unmarshal([]byte(text), &v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(text, int(se.Offset))
		return fmt.Errorf("not valid JSON at line %d, column %d: %v", line, col, se)
	}
	return fmt.Errorf("not valid JSON: %v", err)
}

// position is the 1-based line and column of byte offset off.
func position(text string, off int) (line, col int) {
	off = min(max(off, 1), len(text))
	before := text[:off]
	line = strings.Count(before, "\n") + 1
	return line, off - strings.LastIndexByte(before, '\n') - 1
}
