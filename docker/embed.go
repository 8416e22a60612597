// Package docker holds the files shared by the local and the compose
// topologies. The proxy configurations (nginx/, haproxy/, caddy/) are
// embedded so that the local topology runs exactly the bytes the compose
// topology mounts, and so that a report can name a configuration by its
// SHA-256. Which file is which target is said in package targets.
package docker

import "embed"

// Configs holds the preset proxy configurations: nginx/*.conf,
// haproxy/*.cfg and caddy/*.Caddyfile. None contains an address: each kind
// learns its listen address and the origin's from the topology (nginx: the
// include files sseload-upstream.conf and sseload-listen.conf written next
// to it; HAProxy and Caddy: the environment variables SSELOAD_LISTEN and
// SSELOAD_ORIGIN).
//
// It is exported because embed.FS must be a package-level variable; treat it
// as read-only (embed.FS has no mutating methods).
//
//go:embed nginx/*.conf haproxy/*.cfg caddy/*.Caddyfile
var Configs embed.FS

// ComposeFiles holds the compose topology as it sits in this directory:
// compose.yaml, the preset configs (the same files as Configs) and
// nginx/compose/*.conf (the compose topology's upstream and listen files
// for nginx). Written out with its paths unchanged, compose.yaml's relative
// bind mounts resolve, so an installed binary runs the topology without a
// checkout. Read-only, like Configs.
//
//go:embed compose.yaml nginx/*.conf nginx/compose/*.conf haproxy/*.cfg caddy/*.Caddyfile
var ComposeFiles embed.FS
