package server

import (
	"crypto/tls"
	"fmt"
	"sync/atomic"
)

// certReloader serves a certificate that SIGHUP can replace without
// dropping the listener.
type certReloader struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	cr := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := cr.reload(); err != nil {
		return nil, err
	}
	return cr, nil
}

func (cr *certReloader) reload() error {
	cert, err := tls.LoadX509KeyPair(cr.certFile, cr.keyFile)
	if err != nil {
		return fmt.Errorf("load TLS certificate %s and key %s: %w", cr.certFile, cr.keyFile, err)
	}
	cr.cert.Store(&cert)
	return nil
}

// get serves the certificate to a client (tls.Config.GetCertificate).
func (cr *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return cr.cert.Load(), nil
}

// getClient presents the certificate to a server that asks for one
// (tls.Config.GetClientCertificate).
func (cr *certReloader) getClient(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return cr.cert.Load(), nil
}
