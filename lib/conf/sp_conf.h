/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_CONF_H
#define SP_CONF_H

/**
 * @file
 * Configuration, phase one: parse a libconfig file and validate all of it into the plain
 * structs below, touching nothing else. Phase two (applying) belongs to the modules that own
 * each setting; start-up and reload use the same two phases, so a reload is all-or-nothing.
 *
 * Every error is one line "file:line: setting: reason" ("file: setting: reason" when the
 * setting is missing; "file:line: syntax error..." from the parser). The annotated reference of
 * every setting is conf/sallyport.conf; docs/configuration.md describes the model.
 *
 * libconfig 1.5 truncates integers past 32 bits without an "L" suffix; the loader adds the
 * suffix itself before parsing, so "table = 4294967295;" means what it says. "@include" is
 * refused.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>
#include <rte_ether.h>

#include "sp_addr.h"
#include "sp_log.h"

#define SP_CONF_NAME_MAX 32        /* names of the gateway, ports, interfaces */
#define SP_CONF_DEV_MAX 256        /* DPDK device strings */
#define SP_CONF_PATH_MAX 256
#define SP_CONF_MAX_PORTS 15       /* data ports; with the exception port <= SP_MAX_PORTS */
#define SP_CONF_MAX_VLANS 8        /* VLAN interfaces per port */
#define SP_CONF_MAX_ADDRS 8        /* addresses per interface */
#define SP_CONF_MAX_ROUTES 1024    /* static routes in the file */
#define SP_CONF_MAX_WORKERS 16
#define SP_CONF_MAX_EAL_ARGS 32
#define SP_CONF_MAX_LOG_TYPES 32
#define SP_CONF_ERR_MAX 512

enum sp_idle_mode {
	SP_IDLE_POLL = 0,  /**< busy poll: lowest latency, one core per worker */
	SP_IDLE_ADAPTIVE,  /**< back off (pause, then sleep up to idle_max_us) when queues stay empty */
};

/** An error from parsing or validation. */
struct sp_conf_err {
	char file[SP_CONF_PATH_MAX];
	int line;                  /**< 0 when it has no line (missing setting, unreadable file) */
	char setting[128];         /**< path of the setting, e.g. "ports.[1].addresses.[0]" */
	char msg[SP_CONF_ERR_MAX]; /**< "file:line: setting: reason", ready to print */
};

/** EAL settings; turned into rte_eal_init() arguments by sp_conf_eal_argv(). */
struct sp_conf_eal {
	char lcores[64];            /**< "-l": lcore list including the main lcore, e.g. "0-1" */
	int main_lcore;             /**< "--main-lcore", -1 for EAL's default (the first) */
	char file_prefix[64];       /**< "--file-prefix"; empty for EAL's default */
	uint32_t memory_mb;         /**< "-m"; 0 for EAL's default */
	bool in_memory;             /**< "--in-memory" */
	bool no_huge;               /**< "--no-huge" (tests, no hugepages) */
	bool no_pci;                /**< "--no-pci" */
	bool no_telemetry;          /**< "--no-telemetry" */
	unsigned int n_extra;
	char extra[SP_CONF_MAX_EAL_ARGS][128]; /**< further EAL arguments, verbatim */
};

struct sp_conf_workers {
	unsigned int n_lcores;
	unsigned int lcores[SP_CONF_MAX_WORKERS]; /**< worker lcore ids, one worker each */
	enum sp_idle_mode idle;
	uint32_t idle_max_us;       /**< longest adaptive sleep, 1..100000 */
	uint16_t burst;             /**< RX burst size, 1..64 (default 32) */
};

struct sp_conf_mempool {
	uint32_t mbufs;             /**< mbufs per socket (default 8191) */
	uint32_t cache;             /**< per-lcore cache (default 256, <= RTE_MEMPOOL_CACHE_MAX_SIZE) */
	uint16_t data_room;         /**< mbuf data room incl. headroom (default 2176) */
};

/** An L3 interface: a whole port (vlan 0) or a VLAN on it. */
struct sp_conf_iface {
	uint16_t vlan;              /**< 0: untagged; 1..4094: 802.1Q VLAN id */
	uint16_t mtu;               /**< 0: the port's MTU */
	unsigned int n_addrs;
	struct sp_ip addrs[SP_CONF_MAX_ADDRS]; /**< host address + prefix length of the subnet */
	int line;
};

struct sp_conf_port {
	char name[SP_CONF_NAME_MAX];   /**< [A-Za-z0-9_-], unique */
	char device[SP_CONF_DEV_MAX];  /**< DPDK device: "0000:03:00.0" or "net_tap0,iface=x" */
	bool has_mac;
	struct rte_ether_addr mac;     /**< set the port's MAC (else the device's) */
	uint16_t mtu;                  /**< 68..9000, default 1500 */
	uint16_t rx_desc;              /**< default 1024 */
	uint16_t tx_desc;              /**< default 1024 */
	bool promiscuous;              /**< default false */
	unsigned int n_ifaces;
	/** ifaces[0] is the untagged interface when the port has top-level addresses */
	struct sp_conf_iface ifaces[1 + SP_CONF_MAX_VLANS];
	int line;
};

/** The exception port: a net_tap device whose kernel side carries the gateway's addresses. */
struct sp_conf_exception {
	bool enabled;
	char iface[IFNAMSIZ];        /**< kernel interface name, default "sp0" */
	char netns[64];              /**< move the kernel side into this named netns ("" = stay) */
	bool has_mac;
	struct rte_ether_addr mac;   /**< MAC of the DPDK side (default 02:53:50:00:00:01) */
	uint32_t table;              /**< kernel routing table for replies (default 100) */
	uint32_t rule_priority;      /**< priority of the "from <own address>" rules (default 100) */
	int line;
};

enum sp_route_kind {
	SP_ROUTE_VIA = 0,   /**< via a gateway address */
	SP_ROUTE_DEV,       /**< directly on an interface (on-link) */
	SP_ROUTE_BLACKHOLE, /**< drop */
};

struct sp_conf_route {
	struct sp_ip prefix;          /**< network, host bits zero */
	enum sp_route_kind kind;
	struct sp_ip via;             /**< SP_ROUTE_VIA: next hop, same family */
	char iface[SP_CONF_NAME_MAX + 8]; /**< "port" or "port.vlan"; optional for VIA */
	int line;
};

struct sp_conf_neigh {
	uint32_t max_entries;     /**< default 4096 */
	uint32_t reachable_ms;    /**< a confirmed entry is re-probed (unicast) after this (30000) */
	uint32_t retrans_ms;      /**< between solicitations (1000) */
	uint32_t probes;          /**< solicitations before an entry fails (3) */
	uint32_t hold_packets;    /**< packets held per unresolved entry (16) */
};

struct sp_conf_icmp {
	uint32_t errors_per_sec;  /**< ICMP error rate limit per worker, 0 = none sent (default 1000) */
	uint32_t burst;           /**< token bucket depth (default 50) */
};

struct sp_conf_log_type {
	char pattern[64];         /**< glob over log type names, e.g. "sp.dp" or "sp.*" */
	int level;                /**< RTE_LOG_* */
};

struct sp_conf_log {
	enum sp_log_format format;
	int level;                /**< default RTE_LOG_INFO, for every "sp.*" type */
	unsigned int n_types;
	struct sp_conf_log_type types[SP_CONF_MAX_LOG_TYPES];
};

struct sp_conf_console {
	char socket[SP_CONF_PATH_MAX]; /**< UNIX socket, mode 0600 (default /run/sallyport/<name>.sock) */
};

#define SP_CONF_MAX_CRLS 8         /* pki.crls entries */
#define SP_CONF_ID_MAX 256         /* pki.identity: a SPIFFE ID */
#define SP_CONF_URL_MAX 128        /* pki.renew.url */

/** Where the gateway's own certificate is renewed. */
enum sp_renew_source {
	SP_RENEW_FILE = 0,  /**< signed here by the online intermediate (renew.ca_cert/ca_key) */
	SP_RENEW_GATEWAY,   /**< signed by the enclave's issuing gateway (renew.url), over mTLS */
};

/**
 * The gateway's own certificate state (lib/certd). Paths are only checked for shape here;
 * lib/certd reads and verifies the files at start (sp_certd_check()).
 */
struct sp_conf_pki {
	bool enabled;                  /**< the section is present */
	char cert[SP_CONF_PATH_MAX];   /**< leaf certificate, optionally followed by its chain */
	char key[SP_CONF_PATH_MAX];    /**< its private key (PEM) */
	char bundle[SP_CONF_PATH_MAX]; /**< trust bundle: one or more roots */
	unsigned int n_crls;
	char crls[SP_CONF_MAX_CRLS][SP_CONF_PATH_MAX];
	char identity[SP_CONF_ID_MAX]; /**< SPIFFE ID the certificate must carry ("" = any) */
	bool watch;                    /**< inotify on the files (default true) */
	struct {
		bool enabled;              /**< the renew group is present */
		enum sp_renew_source source;
		char ca_cert[SP_CONF_PATH_MAX];
		char ca_key[SP_CONF_PATH_MAX];
		char url[SP_CONF_URL_MAX]; /**< "https://ADDR:PORT" (IPv6 in brackets) */
		struct sp_ip url_addr;
		uint16_t url_port;
		double at;                 /**< fraction of the lifetime, 0.1..0.95 (default 2/3) */
		uint32_t retry_s;          /**< after a failure, 1..86400 (default 30) */
	} renew;
};

/** The workload issuance endpoint (HTTPS, POST /v1/sign). Needs the pki section. */
struct sp_conf_issuer {
	bool enabled;                  /**< default false */
	char listen_str[64];
	struct sp_ip listen;           /**< an address of the gateway */
	uint16_t port;
	char ca_cert[SP_CONF_PATH_MAX]; /**< the online intermediate (with its chain) */
	char ca_key[SP_CONF_PATH_MAX];
	char policy[SP_CONF_PATH_MAX];  /**< lib/pki policy file */
	char tokens[SP_CONF_PATH_MAX];  /**< lib/pki token file */
	char audit[SP_CONF_PATH_MAX];   /**< lib/pki audit log */
	uint32_t max_seconds;          /**< longest lifetime granted, 60..31536000 (86400) */
	uint32_t max_conns;            /**< concurrent connections, 1..1024 (default 64) */
};


/** The crypto engine (lib/crypto) every SA of this gateway runs on. */
struct sp_conf_crypto {
	char engine[32];               /**< "ipsec_mb" (default), "cryptodev", "openssl" */
	char args[SP_CONF_DEV_MAX];    /**< engine arguments: cryptodev device name, ... */
};

#define SP_CONF_MAX_PEERS 32
#define SP_CONF_MAX_PEER_PREFIXES 32
#define SP_CONF_MAX_MANUAL_SA 16
#define SP_CONF_KEYMAT_MAX 36      /* AES-256 key + 4-byte salt */

/** A manually keyed SA pair (RFC 4303 without a key exchange): interop with other ESP peers. */
struct sp_conf_manual_sa {
	uint32_t spi_in;               /**< SPI the peer sends to us */
	uint32_t spi_out;              /**< SPI we send to the peer */
	uint8_t key_in[SP_CONF_KEYMAT_MAX];  /**< key followed by the 4-byte salt (RFC 4106) */
	uint8_t key_out[SP_CONF_KEYMAT_MAX];
	uint8_t keymat_len;            /**< 20 (AES-GCM-128) or 36 (AES-GCM-256), both keys */
	int line;
};

/** Another gateway: the prefixes behind it are reached through an ESP tunnel to it. */
struct sp_conf_peer {
	char name[SP_CONF_NAME_MAX];
	char identity[SP_CONF_ID_MAX]; /**< the SPIFFE ID its certificate must carry (keyx) */
	struct sp_ip address;          /**< its tunnel endpoint (outer destination) */
	bool has_local;
	struct sp_ip local;            /**< our tunnel endpoint; default: the egress interface's address */
	unsigned int n_prefixes;
	struct sp_ip prefixes[SP_CONF_MAX_PEER_PREFIXES]; /**< networks behind it, host bits zero */
	bool udp_encap;                /**< RFC 3948 (default tunnels.udp_encap) */
	bool esn;                      /**< extended sequence numbers (default tunnels.esn) */
	uint16_t path_mtu;             /**< 0: the egress interface's MTU */
	unsigned int n_manual;         /**< > 0: manual keys, no key exchange with this peer */
	struct sp_conf_manual_sa manual[SP_CONF_MAX_MANUAL_SA];
	int line;
};

/** Lifetimes of key-exchanged SAs; 0 = no limit. Manual SAs have none. */
struct sp_conf_lifetime {
	uint64_t soft_seconds, hard_seconds;
	uint64_t soft_bytes, hard_bytes;
	uint64_t soft_packets, hard_packets;
};

/** ESP tunnels to other gateways and the key exchange (lib/tunnel, lib/keyx). */
struct sp_conf_tunnels {
	bool enabled;                  /**< the section is present */
	uint16_t port;                 /**< key exchange TCP port (default 4501) */
	uint16_t key_bits;             /**< 128 or 256 (default 256): cipher = "aes-gcm-256" */
	bool esn;                      /**< default true */
	bool udp_encap;                /**< default false */
	uint32_t replay_window;        /**< 64..32768, power of two (default 1024) */
	struct sp_conf_lifetime lifetime;
	uint32_t dpd_interval_ms;      /**< key exchange keepalive (default 1000) */
	uint32_t dpd_timeout_ms;       /**< peer declared dead after this silence (default 5000) */
	uint32_t drain_ms;             /**< old SAs kept after a rekey (default 2000) */
	uint32_t retry_ms;             /**< reconnect back-off, first step (default 500) */
	unsigned int n_peers;
	struct sp_conf_peer peers[SP_CONF_MAX_PEERS];
	int line;
};

struct sp_conf {
	char path[SP_CONF_PATH_MAX];   /**< the file it came from */
	char name[SP_CONF_NAME_MAX];   /**< gateway name (default "sallyport") */
	struct sp_conf_eal eal;
	struct sp_conf_workers workers;
	struct sp_conf_mempool mempool;
	unsigned int n_ports;
	struct sp_conf_port ports[SP_CONF_MAX_PORTS];
	struct sp_conf_exception exception;
	unsigned int n_routes;
	struct sp_conf_route routes[SP_CONF_MAX_ROUTES];
	struct sp_conf_neigh neigh;
	struct sp_conf_icmp icmp;
	struct sp_conf_log log;
	struct sp_conf_console console;
	struct sp_conf_pki pki;
	struct sp_conf_issuer issuer;
	struct sp_conf_crypto crypto;
	struct sp_conf_tunnels tunnels;
};

/**
 * Parse and validate a file. On success *out is complete and consistent (names unique,
 * addresses valid and not overlapping between interfaces, routes' interfaces exist, a "via"
 * lies in a connected subnet, worker lcores inside eal.lcores and not the main lcore, ...).
 * out is heap-sized (~300 KiB): allocate it, do not put it on a small stack. out is cleared
 * first; on error its content is unspecified. err may be NULL.
 * @return 0, -EINVAL (err filled), -ENOENT/-EACCES or another -errno (file unreadable, err
 * filled: "file: cannot read: reason"), -ENOMEM.
 */
int sp_conf_load(const char *path, struct sp_conf *out, struct sp_conf_err *err);

/** The same from a string (tests, fuzzing); name is used as the file name in errors. */
int sp_conf_load_string(const char *text, const char *name, struct sp_conf *out,
			struct sp_conf_err *err);

/**
 * Settings that cannot change without a restart: name, eal.*, workers.lcores, workers.burst,
 * mempool.*, ports.* (addresses and VLANs included), exception.*, neighbors.max_entries,
 * console.socket, whether the pki section is present, issuer.enabled and issuer.listen. A reload may change workers.idle and idle_max_us, routes, the other
 * neighbors settings, icmp, log, the other pki.* and issuer.* settings (lib/certd applies
 * them; the certificate files are re-read).
 * @return 0 when a reload from old to new is possible, else -EINVAL with err naming the first
 * setting that differs ("<new file>: ports.[0].device: changing it needs a restart", line 0).
 */
int sp_conf_reload_check(const struct sp_conf *old, const struct sp_conf *new_conf,
			 struct sp_conf_err *err);

/**
 * Build the EAL argument vector: argv[0] = prog, then the config's EAL settings in the order
 * "-l", "--main-lcore", "--file-prefix=", "-m", "--in-memory", "--no-huge", "--no-pci",
 * "--no-telemetry", then eal.extra, then cli_args. An option given in cli_args (as "--opt",
 * "--opt=value", "-o" or "-ovalue"; scanning stops at "--") replaces the config's option of the
 * same kind: "-l"/"-c"/"--lcores" (these also drop the config's "--main-lcore"),
 * "--main-lcore", "--file-prefix", "-m"/"--socket-mem", "--in-memory", "--no-huge",
 * "--no-pci", "--no-telemetry"/"--telemetry". argv[argc] is set to NULL.
 * Strings point into conf, cli_args or static buffers (numbers, "--file-prefix=..."), so the
 * function is not reentrant and the result is valid until the next call.
 * @return argc, or -E2BIG when argc + 1 (the final NULL) would exceed max.
 */
int sp_conf_eal_argv(const struct sp_conf *conf, const char *prog, int cli_argc,
		     char **cli_args, char **argv, int max);

/**
 * Write the configuration in libconfig syntax (for "show config"), every setting explicit;
 * loading the output again gives an equal struct (except path and line numbers).
 * @return 0 or -EIO.
 */
int sp_conf_dump(const struct sp_conf *conf, FILE *f);

/** The main lcore EAL will use: eal.main_lcore, else the lowest id of eal.lcores. */
int sp_conf_main_lcore(const struct sp_conf *conf);

/** "port" or "port.vlan" name of interface i of port p. */
void sp_conf_iface_name(const struct sp_conf_port *p, const struct sp_conf_iface *i, char *buf,
			size_t size);

#endif
