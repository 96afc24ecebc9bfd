// Package bus is the live notification bus: Odoo 16's bus.bus and its
// /websocket endpoint, for this server's channels (mqtt.ChannelRealtime,
// mqtt.ChannelListener, iotdevice.ChannelDevices).
//
// A Bus implements models.Notifier. Notify never blocks: it encodes each
// notification once and puts it on a bounded queue (a full queue drops and
// counts, see Dropped), so the MQTT ingest path is never slowed by the
// browsers. One batcher goroutine takes whatever is queued and publishes it:
//
//   - in memory mode (Options.PostgresDSN == "") it numbers the notes from
//     an in-process counter, keeps them in a ring of recent notes and fans
//     them out to the subscribers;
//   - in PostgreSQL mode (several server instances on one database, Odoo's
//     own design) it packs each batch into one row of the table bus_batch and calls
//     pg_notify('imbus') in the same transaction. Every instance holds one
//     connection doing LISTEN imbus, fetches the rows it has not seen and
//     fans them out, local notes included, so every instance hands out the
//     same ids in the same order.
//
// Ids are global and increasing; a subscriber that knows the last id it saw
// can resume without gaps or duplicates while the notes are still buffered
// (Options.Retention, 100 s by default like Odoo's garbage collection).
//
// Go code subscribes with Subscribe/Since; browsers use the routes of
// Routes: the /websocket protocol of Odoo 16 (subscribe frames, JSON-array
// notification frames, keep-alive pings, Odoo's close codes) and its
// /websocket/peek_notifications, /websocket/update_bus_presence and
// /websocket/health helpers. README.md lists what of Odoo's bus is
// implemented and what is left out.
package bus
