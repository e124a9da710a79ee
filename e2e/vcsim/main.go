// vcsim for mtvgen's tests and benchmarks: govmomi's vCenter simulator with a
// configurable model, real TLS, one valid login, and an optional user that may
// log in but may not read the inventory (the simulator models no privileges).
//
// It prints one JSON line {"url": ..., "cert": <PEM file>} on stdout once it
// listens, then serves until stdin closes or it gets SIGINT/SIGTERM.
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"io"
	"io/ioutil"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	// the vAPI REST endpoints (/rest/com/vmware/cis/...): tags and categories, as vCenter
	// serves them beside the SOAP API
	_ "github.com/vmware/govmomi/vapi/simulator"
)

const noPermissionFault = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Permission to perform this operation was denied.</faultstring><detail><NoPermissionFault xmlns="urn:vim25" xsi:type="NoPermission"><object type="Folder">group-d1</object><privilegeId>System.View</privilegeId></NoPermissionFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`

// denyReads answers every inventory read of sessions opened by `user` with a
// NoPermission fault, the way vCenter answers a user without System.View.
type denyReads struct {
	next    http.Handler
	login   *regexp.Regexp
	mu      sync.Mutex
	cookies map[string]bool
}

func (d *denyReads) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := ioutil.ReadAll(req.Body)
	req.Body = ioutil.NopCloser(bytes.NewReader(body))
	text := string(body)
	if strings.Contains(text, "<Login") && d.login.MatchString(text) {
		d.next.ServeHTTP(w, req)
		// the header map stays readable after the response is written
		d.mu.Lock()
		for _, c := range w.Header()["Set-Cookie"] {
			d.cookies[strings.SplitN(c, ";", 2)[0]] = true
		}
		d.mu.Unlock()
		return
	}
	if c, err := req.Cookie("vmware_soap_session"); err == nil && (strings.Contains(text, "RetrieveProperties") ||
		strings.Contains(text, "CreateContainerView")) {
		d.mu.Lock()
		denied := d.cookies[c.Name+"="+c.Value]
		d.mu.Unlock()
		if denied {
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, noPermissionFault)
			return
		}
	}
	d.next.ServeHTTP(w, req)
}

// selfSigned makes a P-256 certificate for 127.0.0.1 and ::1 only (the
// simulator's built-in test certificate is RSA-1024, which OpenSSL refuses),
// and writes its PEM to a temporary file for clients to trust.
func selfSigned() (tls.Certificate, string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "vcsim"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	f, err := ioutil.TempFile("", "vcsim-ca-")
	if err != nil {
		log.Fatal(err)
	}
	pem.Encode(f, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	f.Close()
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, f.Name()
}

func main() {
	model := simulator.VPX()
	flag.IntVar(&model.Datacenter, "dc", 1, "datacenters")
	flag.IntVar(&model.Cluster, "cluster", 1, "clusters per datacenter")
	flag.IntVar(&model.ClusterHost, "host", 2, "hosts per cluster")
	flag.IntVar(&model.Host, "standalone-host", 0, "standalone hosts per datacenter")
	flag.IntVar(&model.Machine, "vm", 2, "VMs per cluster (and per standalone host)")
	flag.IntVar(&model.Datastore, "ds", 1, "datastores")
	flag.IntVar(&model.Portgroup, "pg", 1, "distributed port groups per datacenter")
	flag.IntVar(&model.Folder, "folder", 0, "datacenter folders")
	listen := flag.String("l", "127.0.0.1:0", "listen address")
	userpass := flag.String("u", "user:pass", "the one valid login, user:password")
	denyUser := flag.String("deny-user", "", "a user who may log in but not read the inventory")
	plain := flag.Bool("no-tls", false, "serve plain HTTP")
	flag.Parse()
	model.Autostart = false

	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	defer model.Remove()
	parts := strings.SplitN(*userpass, ":", 2)
	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(parts[0], parts[1])}
	certFile := ""
	if !*plain {
		cert, file := selfSigned()
		defer os.Remove(file)
		certFile = file
		model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	if *denyUser != "" {
		// any password works for the deny user: the check is on what it may read
		model.Service.Listen.User = nil
	}
	model.Service.RegisterEndpoints = true // the vAPI endpoints imported above
	srv := model.Service.NewServer()
	if *denyUser != "" {
		login := regexp.MustCompile(`<userName[^>]*>` + regexp.QuoteMeta(*denyUser) + `</userName>`)
		srv.Config.Handler = &denyReads{next: srv.Config.Handler, login: login, cookies: map[string]bool{}}
	}
	defer srv.Close()

	u := *srv.URL
	u.User = nil
	out := map[string]string{"url": u.String()}
	if certFile != "" {
		out["cert"] = certFile
	}
	json.NewEncoder(os.Stdout).Encode(out)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() { io.Copy(ioutil.Discard, os.Stdin); stop <- syscall.SIGTERM }()
	<-stop
}
