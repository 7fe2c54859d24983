#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Create or remove the demo topology (two segments around one gateway).
#
#   scripts/netns-demo.sh up [PREFIX]     (PREFIX defaults to "sp")
#   scripts/netns-demo.sh down [PREFIX]
#
#  ns PREFIX-a (client)                   sallyport                      ns PREFIX-b (server)
#  a0 10.1.0.2/24 fd01::2/64 --- veth PREFIX-a1 [port inside  10.1.0.1/24 fd01::1/64]
#                                              [port outside 10.2.0.1/24 fd02::1/64] veth PREFIX-b1 --- b0 10.2.0.2/24 fd02::2/64
#  default via 10.1.0.1 / fd01::1                                           default via 10.2.0.1 / fd02::1
#                       exception tap sp0 -> ns PREFIX-gw (the gateway's kernel side)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
. "$(dirname "${BASH_SOURCE[0]}")/lib/topo.sh"

cmd=${1:-}
prefix=${2:-sp}
[[ $prefix =~ ^[a-z][a-z0-9]{0,9}$ ]] || sp_die "PREFIX must be 1-10 lowercase letters/digits"
sp_need_root
case $cmd in
up) topo_up "$prefix" ;;
down) topo_down "$prefix" ;;
*) sp_die "usage: netns-demo.sh up|down [PREFIX]" ;;
esac
