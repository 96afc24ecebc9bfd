package listener

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
)

// The tests run a real Mosquitto (Debian's package) through testmqtt.

// startMosquitto starts a test broker whose queues hold the bursts the
// tests send to offline persistent sessions (Mosquitto's stock limit is
// 1000 messages per client).
func startMosquitto(t testing.TB, opts testmqtt.Options) *testmqtt.Broker {
	t.Helper()
	opts.Config = append(opts.Config, "max_queued_messages 10000")
	return testmqtt.Start(t, opts)
}

// testPKI is a CA with a server certificate for 127.0.0.1/localhost and a
// client certificate, all PEM.
type testPKI struct {
	caPEM, serverCertPEM, serverKeyPEM, clientCertPEM, clientKeyPEM []byte
}

func newPKI(t testing.TB) *testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now().Add(-time.Hour)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: now, NotAfter: now.Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, server bool) (certPEM, keyPEM []byte) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, NotBefore: now, NotAfter: now.Add(48 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		if server {
			tmpl.DNSNames = []string{"localhost"}
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalECPrivateKey(key)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	}
	p := &testPKI{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	p.serverCertPEM, p.serverKeyPEM = leaf(2, "localhost", x509.ExtKeyUsageServerAuth, true)
	p.clientCertPEM, p.clientKeyPEM = leaf(3, "plant-client", x509.ExtKeyUsageClientAuth, false)
	return p
}

// brokerTLS is a TLS listener with the server certificate that requires a
// client certificate of the CA.
func (p *testPKI) brokerTLS() *testmqtt.TLS {
	return &testmqtt.TLS{CA: p.caPEM, Cert: p.serverCertPEM, Key: p.serverKeyPEM, RequireCertificate: true}
}

// scriptedBroker is a minimal MQTT server for what Mosquitto will not do
// on request: it accepts CONNECT and answers every SUBSCRIBE with the
// given return code, or (silent) never answers at all.
func scriptedBroker(t testing.TB, subackCode byte, silent bool) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	go func() {
		defer close(done)
		var conns []net.Conn
		var wg sync.WaitGroup
		defer func() {
			for _, c := range conns {
				c.Close()
			}
			wg.Wait()
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			if !silent {
				wg.Go(func() { serveScripted(c, subackCode) })
			}
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func serveScripted(c net.Conn, subackCode byte) {
	for {
		p, err := packets.ReadPacket(c)
		if err != nil {
			return
		}
		switch p := p.(type) {
		case *packets.ConnectPacket:
			err = packets.NewControlPacket(packets.Connack).Write(c)
		case *packets.SubscribePacket:
			ack := packets.NewControlPacket(packets.Suback).(*packets.SubackPacket)
			ack.MessageID = p.MessageID
			for range p.Topics {
				ack.ReturnCodes = append(ack.ReturnCodes, subackCode)
			}
			err = ack.Write(c)
		case *packets.PingreqPacket:
			err = packets.NewControlPacket(packets.Pingresp).Write(c)
		case *packets.DisconnectPacket:
			return
		}
		if err != nil {
			return
		}
	}
}
