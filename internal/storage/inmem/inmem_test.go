package inmem_test

import (
	"testing"

	"github.com/wardsec/ward/internal/storage"
	"github.com/wardsec/ward/internal/storage/inmem"
	"github.com/wardsec/ward/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Backend {
		return inmem.New()
	})
}
