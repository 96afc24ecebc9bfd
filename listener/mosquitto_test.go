package listener

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// The tests run a real Mosquitto (Debian's package), started here on free
// ports with a generated configuration in the test's temporary folder.

// mosquittoBin finds Mosquitto; without it a test skips with one line, or
// fails under CI=true, where it must run.
func mosquittoBin(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but mosquitto is not installed (apt-get install mosquitto)")
	}
	t.Skip("mosquitto not installed: apt-get install mosquitto to run the listener tests")
	return ""
}

// brokerSetup is what a test Mosquitto offers.
type brokerSetup struct {
	users       map[string]string // password file; empty: anonymous
	tls         *testPKI          // adds a TLS listener requiring a client certificate
	persistence bool              // keep sessions across restarts
}

// mosquitto is one test broker process.
type mosquitto struct {
	t       testing.TB
	bin     string
	dir     string
	port    int // plain listener
	tlsPort int // TLS listener, 0 without TLS
	cmd     *exec.Cmd
	exited  chan struct{}
}

// startMosquitto writes a configuration and starts the broker; it is
// killed when the test ends, and its log shown when the test failed.
func startMosquitto(t testing.TB, setup brokerSetup) *mosquitto {
	t.Helper()
	m := &mosquitto{t: t, bin: mosquittoBin(t), dir: t.TempDir(), port: freePort(t)}
	var conf []string
	if os.Geteuid() == 0 {
		conf = append(conf, "user root") // else it drops to "mosquitto", who cannot read the temp folder
	}
	conf = append(conf, "per_listener_settings false", "max_queued_messages 10000",
		fmt.Sprintf("listener %d 127.0.0.1", m.port))
	if len(setup.users) == 0 {
		conf = append(conf, "allow_anonymous true")
	} else {
		pw := filepath.Join(m.dir, "passwd")
		for user, pass := range setup.users {
			args := []string{"-b", pw, user, pass}
			if _, err := os.Stat(pw); err != nil {
				args = append([]string{"-c"}, args...)
			}
			if out, err := exec.Command("mosquitto_passwd", args...).CombinedOutput(); err != nil {
				t.Fatalf("mosquitto_passwd: %v: %s", err, out)
			}
		}
		conf = append(conf, "allow_anonymous false", "password_file "+pw)
	}
	if p := setup.tls; p != nil {
		m.tlsPort = freePort(t)
		files := map[string][]byte{"ca.pem": p.caPEM, "server.pem": p.serverCertPEM, "server.key": p.serverKeyPEM}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(m.dir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		conf = append(conf, fmt.Sprintf("listener %d 127.0.0.1", m.tlsPort),
			"cafile "+filepath.Join(m.dir, "ca.pem"), "certfile "+filepath.Join(m.dir, "server.pem"),
			"keyfile "+filepath.Join(m.dir, "server.key"), "require_certificate true")
	}
	if setup.persistence {
		conf = append(conf, "persistence true", "persistence_location "+m.dir+"/", "autosave_interval 1")
	}
	if err := os.WriteFile(filepath.Join(m.dir, "mosquitto.conf"), []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.start()
	t.Cleanup(func() {
		m.kill()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(m.dir, "mosquitto.log"))
			t.Logf("mosquitto log:\n%s", log)
		}
	})
	return m
}

// start runs the broker and waits until its ports accept connections.
func (m *mosquitto) start() {
	m.t.Helper()
	logf, err := os.OpenFile(filepath.Join(m.dir, "mosquitto.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		m.t.Fatal(err)
	}
	defer logf.Close()
	m.cmd = exec.Command(m.bin, "-c", filepath.Join(m.dir, "mosquitto.conf"))
	m.cmd.Stdout, m.cmd.Stderr = logf, logf
	if err := m.cmd.Start(); err != nil {
		m.t.Fatalf("start mosquitto: %v", err)
	}
	m.exited = make(chan struct{})
	cmd, exited := m.cmd, m.exited
	go func() { _ = cmd.Wait(); close(exited) }()
	for _, p := range []int{m.port, m.tlsPort} {
		if p != 0 && !waitListening(p, exited, 10*time.Second) {
			log, _ := os.ReadFile(filepath.Join(m.dir, "mosquitto.log"))
			m.t.Fatalf("mosquitto did not listen on %d:\n%s", p, log)
		}
	}
}

// kill ends the broker with SIGKILL, as a crash or power loss would.
func (m *mosquitto) kill() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Kill()
	<-m.exited
	m.cmd = nil
}

// restart starts the broker again on the same ports.
func (m *mosquitto) restart() { m.kill(); m.start() }

func (m *mosquitto) addr() string { return "tcp://127.0.0.1:" + strconv.Itoa(m.port) }

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitListening(port int, exited <-chan struct{}, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond); err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
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
