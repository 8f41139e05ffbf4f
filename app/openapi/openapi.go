// Package openapi serves the OpenAPI (Swagger 2.0) specs of the node's REST API at /swagger/
// when the API server's swagger flag is on (app.toml [api] swagger = true): Crucible's queries
// (crucible.swagger.json, generated from proto/ by make proto-gen and checked by make
// proto-check) and the Cosmos SDK's (its swagger.yaml), in the SDK's embedded Swagger UI.
package openapi

import (
	_ "embed"
	"io/fs"
	"net/http"

	"github.com/cosmos/cosmos-sdk/client/docs"
	"github.com/gorilla/mux"
)

// CrucibleSpec is the OpenAPI spec of every Crucible query (generated).
//
//go:embed crucible.swagger.json
var CrucibleSpec []byte

//go:embed index.html
var index []byte

// RegisterRoutes serves /swagger/ (the UI, with both specs), /swagger/crucible.swagger.json
// and /swagger/swagger.yaml (the SDK's spec).
func RegisterRoutes(rtr *mux.Router) error {
	ui, err := fs.Sub(docs.SwaggerUI, "swagger-ui")
	if err != nil {
		return err
	}
	rtr.Path("/swagger/crucible.swagger.json").HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(CrucibleSpec)
	})
	serveIndex := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(index)
	}
	rtr.Path("/swagger/").HandlerFunc(serveIndex)
	rtr.Path("/swagger/index.html").HandlerFunc(serveIndex)
	rtr.Path("/swagger").Handler(http.RedirectHandler("/swagger/", http.StatusMovedPermanently))
	rtr.PathPrefix("/swagger/").Handler(http.StripPrefix("/swagger/", http.FileServer(http.FS(ui))))
	return nil
}
