package cpasim

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"
)

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	s := newTestServer(t, func(o *Options) {
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	})
	if s.URL()[:8] != "https://" {
		t.Fatalf("URL %s", s.URL())
	}
	for _, h2 := range []bool{false, true} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: h2}
		if !h2 {
			tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
		}
		c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
		resp, err := c.Get(s.URL() + "/v0/management/usage-queue?key=x")
		if err != nil {
			t.Fatalf("h2=%v: %v", h2, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || (h2 && resp.ProtoMajor != 2) {
			t.Fatalf("h2=%v: %d %s", h2, resp.StatusCode, resp.Proto)
		}
		tr.CloseIdleConnections()
	}

	// rediss:// without ALPN: the decrypted stream is sniffed.
	conn, err := tls.Dial("tcp", s.Addr().String(), &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	rc := &respClient{t: t, c: conn, br: bufio.NewReader(conn)}
	t.Cleanup(func() { _ = conn.Close() })
	rc.auth()
	rc.do("$-1\r\n", "LPOP", "usage")

	// HTTP/1.1 without ALPN is sniffed too.
	conn2, err := tls.Dial("tcp", s.Addr().String(), &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	rc2 := &respClient{t: t, c: conn2, br: bufio.NewReader(conn2)}
	rc2.raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if l := rc2.line(); l != "HTTP/1.1 200 OK" {
		t.Fatalf("status %q", l)
	}
}
