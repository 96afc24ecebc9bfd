// Package iotbox serves the two routes of Odoo's IoT box that browser
// widgets use through DeviceProxy (odoo-rpc.md §6.3), so that unmodified
// iot_longpolling code pointed at this server drives MQTT devices:
//
//   - POST /hw_drivers/action runs iot.device's action method on the device
//     named by device_identifier, as the calling user, and answers true, or
//     false for an unknown device or a repeated iot_idempotent_id.
//   - POST /hw_drivers/event is the long poll: it answers at once with the
//     oldest buffered device event newer than the listener's last_event for
//     one of its devices, or waits for one up to Options.PollTimeout and
//     then answers with no result.
//
// Events come from the bus (channel iotdevice.ChannelDevices, type
// iotdevice.NoteDeviceEvent): Box.Run keeps one subscription and an in-memory
// ring of the events of the last Options.Buffer, which is what makes the
// poll's cursor (last_event, a float time) loss-free between polls. Event
// times are made strictly increasing when they enter the ring, so "time >
// last_event" never skips an event that shares a timestamp with another.
//
// Unlike the box (auth='none', CORS '*'), every request runs as a user: the
// session cookie's, or Options.PublicUser for requests whose Origin is in
// Options.AllowedOrigins. CORS headers are only sent to allowed origins,
// and a cross-origin POST from any other origin is refused before it is
// read (CSRF). See README.md for what differs from the box.
//
// Box.Routes returns the handlers keyed by chi/net/http method patterns
// ("POST /hw_drivers/action", "OPTIONS /hw_drivers/action", ...); the
// server mounts each with Handle.
package iotbox
