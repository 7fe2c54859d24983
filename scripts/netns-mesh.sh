#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Create or remove the mesh topology: two segments, each behind its own gateway, and the
# transit network between the gateways (see scripts/lib/topo.sh, topo_mesh_up).
#
#   scripts/netns-mesh.sh up [PREFIX]     (PREFIX defaults to "sm")
#   scripts/netns-mesh.sh down [PREFIX]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
. "$(dirname "${BASH_SOURCE[0]}")/lib/topo.sh"

cmd=${1:-}
prefix=${2:-sm}
[[ $prefix =~ ^[a-z][a-z0-9]{0,9}$ ]] || sp_die "PREFIX must be 1-10 lowercase letters/digits"
sp_need_root
case $cmd in
up) topo_mesh_up "$prefix" ;;
down) topo_mesh_down "$prefix" ;;
*) sp_die "usage: netns-mesh.sh up|down [PREFIX]" ;;
esac
