#!/bin/sh
# Run node with the soft open-file limit raised to the hard limit (each scale process holds up to ~19k sockets).
ulimit -n "$(ulimit -Hn)" 2>/dev/null
exec "${NODE_BIN:-node}" "$@"
