/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SP_KIF_PRIVATE_H
#define SP_KIF_PRIVATE_H

/* A minimal rtnetlink client: build one request, send it, read until its ACK or the end of
 * its dump, and keep the kernel's extended ack message for error lines. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "sp_log.h"
#include "sp_kif.h"

SP_LOG_TYPE_DECLARE(kif);

#define KIF_MSG_MAX 1024      /* our requests are a header and a few attributes */
#define KIF_EXT_MSG_MAX 160
#define KIF_RX_SIZE 65536    /* larger than any dump chunk the kernel sends */

struct kif_msg {
	union {
		struct nlmsghdr nh;
		uint8_t raw[KIF_MSG_MAX];
	};
	bool overflow;        /* an attribute did not fit: kif_nl_talk() refuses to send it */
};

struct kif_nl {
	int fd;
	uint32_t seq;
	uint8_t *rx;          /* receive buffer, KIF_RX_SIZE */
	char ext_msg[KIF_EXT_MSG_MAX]; /* the kernel's message for the last failed request, or "" */
};

/* Called for each reply message (not ACK, not DONE) of a request: 0 goes on, a negative errno
 * stops the callbacks; the rest of the reply is still read so the socket stays in step. */
typedef int (*kif_nl_cb)(const struct nlmsghdr *nh, void *arg);

/* Start a message: type, flags (NLM_F_REQUEST is added), and the family header. */
void kif_msg_init(struct kif_msg *m, uint16_t type, uint16_t flags, const void *hdr,
		  size_t hdrlen);
void kif_msg_put(struct kif_msg *m, uint16_t type, const void *data, size_t len);
void kif_msg_put_u8(struct kif_msg *m, uint16_t type, uint8_t v);
void kif_msg_put_u32(struct kif_msg *m, uint16_t type, uint32_t v);
void kif_msg_put_str(struct kif_msg *m, uint16_t type, const char *s);

/* The family header of a message. */
static inline void *
kif_msg_hdr(const struct nlmsghdr *nh)
{
	return NLMSG_DATA(nh);
}

/* Open a NETLINK_ROUTE socket in the calling thread's current network namespace. */
int kif_nl_open(struct kif_nl *nl);
void kif_nl_close(struct kif_nl *nl);

/* Send m and wait for its end. A request asks for an ACK; a dump (NLM_F_DUMP) ends with DONE.
 * @return 0, or the negative errno the kernel (or the socket) gave; nl->ext_msg tells why. */
int kif_nl_talk(struct kif_nl *nl, struct kif_msg *m, kif_nl_cb cb, void *arg);

/* Decides whether a dumped object is to be deleted. */
typedef bool (*kif_nl_pick)(const struct nlmsghdr *nh, void *arg);

/* Dump with m, then send each picked object back as del_type (as `ip ... flush` does), until a
 * dump finds none. Deletions of what is already gone are not errors.
 * @return the number deleted, or a negative errno. */
int kif_nl_flush(struct kif_nl *nl, struct kif_msg *m, uint16_t del_type, kif_nl_pick pick,
		 void *arg);

/* Index the attributes of a message after a family header of hdrlen bytes into tb[0..max]. */
void kif_attr_parse(const struct nlmsghdr *nh, size_t hdrlen, const struct rtattr **tb,
		    unsigned int max);

static inline uint32_t
kif_attr_u32(const struct rtattr *a, uint32_t dflt)
{
	uint32_t v;

	if (a == NULL || RTA_PAYLOAD(a) < sizeof(v))
		return dflt;
	memcpy(&v, RTA_DATA(a), sizeof(v));
	return v;
}

/* One sp_kif_setup() or sp_kif_teardown() call. */
struct kif {
	const struct sp_kif_conf *c;
	struct kif_nl nl;
	int ifindex;          /* in the namespace the interface ends up in */
	bool has_v4;          /* some address of each family */
	bool has_v6;
	char *err;
	size_t errlen;
};

/* Write "<what>: <strerror(-rc)>[ (kernel: <ext>)]" to k->err, log it, and return rc. */
int kif_fail(struct kif *k, int rc, const char *ext, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* l3.c: make the addresses, rules and routes of k->c true (k->ifindex known). */
int kif_addrs_sync(struct kif *k);
int kif_rules_sync(struct kif *k);
int kif_routes_sync(struct kif *k);
/* Delete every rule with our priority and table. @return how many, or a negative errno. */
int kif_rules_flush_all(struct kif *k);

#endif
