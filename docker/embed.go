// Package docker holds the files shared by the local and the compose
// topologies. The nginx configurations in nginx/ are embedded so that the
// local topology runs exactly the bytes the compose topology mounts, and so
// that a report can name the configuration by its SHA-256.
package docker

import "embed"

// NginxConfigs holds nginx/nginx-stock.conf (Debian's defaults, what users
// run) and nginx/nginx-sse.conf (the fix). Neither contains an address: each
// includes sseload-upstream.conf (inside http {}) and sseload-listen.conf
// (inside server {}), written next to it by the topology.
//
// It is exported because embed.FS must be a package-level variable; treat it
// as read-only (embed.FS has no mutating methods).
//
//go:embed nginx/*.conf
var NginxConfigs embed.FS

// ComposeFiles holds the compose topology as it sits in this directory:
// compose.yaml, nginx/*.conf (the same files as NginxConfigs) and
// nginx/compose/*.conf (the compose topology's upstream and listen files).
// Written out with its paths unchanged, compose.yaml's relative bind mounts
// resolve, so an installed binary runs the topology without a checkout.
// Read-only, like NginxConfigs.
//
//go:embed compose.yaml nginx/*.conf nginx/compose/*.conf
var ComposeFiles embed.FS
