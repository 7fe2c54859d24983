/* SPDX-License-Identifier: BSD-3-Clause */
/* A small rtnetlink client: one request at a time, every request acknowledged. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kif_private.h"

#define FLUSH_BATCH 32   /* objects deleted per dump pass */
#define FLUSH_PASSES 64  /* a bound, in case something keeps re-creating what we delete */

void
kif_msg_init(struct kif_msg *m, uint16_t type, uint16_t flags, const void *hdr, size_t hdrlen)
{
	memset(m, 0, sizeof(*m));
	m->nh.nlmsg_len = NLMSG_LENGTH(hdrlen);
	m->nh.nlmsg_type = type;
	m->nh.nlmsg_flags = NLM_F_REQUEST | flags;
	if (NLMSG_SPACE(hdrlen) > sizeof(m->raw)) {
		m->overflow = true;
		return;
	}
	memcpy(NLMSG_DATA(&m->nh), hdr, hdrlen);
}

void
kif_msg_put(struct kif_msg *m, uint16_t type, const void *data, size_t len)
{
	size_t off = NLMSG_ALIGN(m->nh.nlmsg_len);
	struct rtattr *a;

	if (m->overflow || off + RTA_SPACE(len) > sizeof(m->raw)) {
		m->overflow = true;
		return;
	}
	a = (struct rtattr *)(m->raw + off);
	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	m->nh.nlmsg_len = off + RTA_SPACE(len);
}

void
kif_msg_put_u8(struct kif_msg *m, uint16_t type, uint8_t v)
{
	kif_msg_put(m, type, &v, sizeof(v));
}

void
kif_msg_put_u32(struct kif_msg *m, uint16_t type, uint32_t v)
{
	kif_msg_put(m, type, &v, sizeof(v));
}

void
kif_msg_put_str(struct kif_msg *m, uint16_t type, const char *s)
{
	kif_msg_put(m, type, s, strlen(s) + 1);
}

/* Own walk rather than RTA_OK/RTA_NEXT: those compare signed and unsigned lengths. */
static void
attr_walk(const uint8_t *p, size_t len, const struct rtattr **tb, unsigned int max)
{
	memset(tb, 0, sizeof(*tb) * (max + 1));
	while (len >= sizeof(struct rtattr)) {
		const struct rtattr *a = (const struct rtattr *)p;
		size_t step;

		if (a->rta_len < sizeof(*a) || a->rta_len > len)
			return;
		if (a->rta_type <= max && tb[a->rta_type] == NULL)
			tb[a->rta_type] = a;
		step = RTA_ALIGN(a->rta_len);
		if (step >= len)
			return;
		p += step;
		len -= step;
	}
}

void
kif_attr_parse(const struct nlmsghdr *nh, size_t hdrlen, const struct rtattr **tb,
	       unsigned int max)
{
	size_t off = NLMSG_SPACE(hdrlen);

	if (nh->nlmsg_len < off) {
		memset(tb, 0, sizeof(*tb) * (max + 1));
		return;
	}
	attr_walk((const uint8_t *)nh + off, nh->nlmsg_len - off, tb, max);
}

int
kif_nl_open(struct kif_nl *nl)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->fd = -1;
	nl->rx = malloc(KIF_RX_SIZE);
	if (nl->rx == NULL)
		return -ENOMEM;
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd < 0 || bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;

		kif_nl_close(nl);
		return rc;
	}
	/* The kernel's reason in words, and errors without our request echoed back. Both are
	 * optional: older kernels simply give a bare errno. */
	(void)setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->seq = (uint32_t)getpid() << 8;
	return 0;
}

void
kif_nl_close(struct kif_nl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
	free(nl->rx);
	nl->rx = NULL;
}

/* Keep NLMSGERR_ATTR_MSG from the TLVs that follow an error or DONE payload. */
static void
ext_ack(struct kif_nl *nl, const struct nlmsghdr *nh, size_t tlv_off)
{
	const struct rtattr *tb[NLMSGERR_ATTR_MAX + 1];
	const struct rtattr *msg;
	size_t len;

	if (!(nh->nlmsg_flags & NLM_F_ACK_TLVS) || nh->nlmsg_len <= tlv_off)
		return;
	attr_walk((const uint8_t *)nh + tlv_off, nh->nlmsg_len - tlv_off, tb, NLMSGERR_ATTR_MAX);
	msg = tb[NLMSGERR_ATTR_MSG];
	if (msg == NULL || RTA_PAYLOAD(msg) == 0)
		return;
	len = strnlen(RTA_DATA(msg), RTA_PAYLOAD(msg));
	if (len >= sizeof(nl->ext_msg))
		len = sizeof(nl->ext_msg) - 1;
	memcpy(nl->ext_msg, RTA_DATA(msg), len);
	nl->ext_msg[len] = '\0';
}

/* The end of a request: an ACK (error 0) or an error, with its optional TLVs. */
static int
nl_error(struct kif_nl *nl, const struct nlmsghdr *nh)
{
	const struct nlmsgerr *e = NLMSG_DATA(nh);
	size_t off;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
		return -EBADMSG;
	if (e->error == 0)
		return 0;
	off = NLMSG_LENGTH(sizeof(*e));
	if (!(nh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	ext_ack(nl, nh, NLMSG_ALIGN(off));
	return e->error < 0 ? e->error : -e->error;
}

static int
nl_done(struct kif_nl *nl, const struct nlmsghdr *nh)
{
	int e;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(e)))
		return 0;
	memcpy(&e, NLMSG_DATA(nh), sizeof(e));
	if (e < 0)
		ext_ack(nl, nh, NLMSG_LENGTH(sizeof(e)));
	return e < 0 ? e : 0;
}

static int
nl_send(struct kif_nl *nl, const struct kif_msg *m)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;

	do {
		n = sendto(nl->fd, m->raw, m->nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
			   sizeof(kernel));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)m->nh.nlmsg_len ? 0 : -EIO;
}

int
kif_nl_talk(struct kif_nl *nl, struct kif_msg *m, kif_nl_cb cb, void *arg)
{
	bool dump = (m->nh.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	int cb_rc = 0;
	uint32_t seq;
	int rc;

	nl->ext_msg[0] = '\0';
	if (m->overflow)
		return -EMSGSIZE;
	if (!dump)
		m->nh.nlmsg_flags |= NLM_F_ACK;
	seq = ++nl->seq;
	m->nh.nlmsg_seq = seq;
	rc = nl_send(nl, m);
	if (rc < 0)
		return rc;

	for (;;) {
		ssize_t n = recv(nl->fd, nl->rx, KIF_RX_SIZE, MSG_TRUNC);
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n > KIF_RX_SIZE)
			return -EMSGSIZE;
		while (off + NLMSG_HDRLEN <= (size_t)n) {
			const struct nlmsghdr *nh = (const struct nlmsghdr *)(nl->rx + off);

			if (nh->nlmsg_len < NLMSG_HDRLEN || nh->nlmsg_len > (size_t)n - off)
				return -EBADMSG;
			off += NLMSG_ALIGN(nh->nlmsg_len);
			if (nh->nlmsg_seq != seq || nh->nlmsg_type == NLMSG_NOOP)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				rc = nl_error(nl, nh);
				return rc < 0 ? rc : cb_rc;
			}
			if (nh->nlmsg_type == NLMSG_DONE) {
				rc = nl_done(nl, nh);
				return rc < 0 ? rc : cb_rc;
			}
			if (cb != NULL && cb_rc == 0)
				cb_rc = cb(nh, arg);
		}
	}
}

struct flush {
	kif_nl_pick pick;
	void *arg;
	unsigned int n;
	struct kif_msg *batch;
};

static int
flush_collect(const struct nlmsghdr *nh, void *arg)
{
	struct flush *f = arg;

	if (!f->pick(nh, f->arg) || f->n == FLUSH_BATCH)
		return 0;
	if (nh->nlmsg_len > sizeof(f->batch[f->n].raw))
		return -EMSGSIZE;
	memset(&f->batch[f->n], 0, sizeof(f->batch[f->n]));
	memcpy(f->batch[f->n].raw, nh, nh->nlmsg_len);
	f->n++;
	return 0;
}

int
kif_nl_flush(struct kif_nl *nl, struct kif_msg *m, uint16_t del_type, kif_nl_pick pick,
	     void *arg)
{
	struct flush f = { .pick = pick, .arg = arg };
	int deleted = 0;
	unsigned int pass, i;
	int rc = 0;

	f.batch = calloc(FLUSH_BATCH, sizeof(*f.batch));
	if (f.batch == NULL)
		return -ENOMEM;
	for (pass = 0; pass < FLUSH_PASSES; pass++) {
		f.n = 0;
		rc = kif_nl_talk(nl, m, flush_collect, &f);
		if (rc < 0)
			break;
		for (i = 0; i < f.n; i++) {
			struct kif_msg *d = &f.batch[i];

			d->nh.nlmsg_type = del_type;
			d->nh.nlmsg_flags = NLM_F_REQUEST;
			rc = kif_nl_talk(nl, d, NULL, NULL);
			/* Gone meanwhile is as good as deleted. */
			if (rc == -ENOENT || rc == -ESRCH || rc == -EADDRNOTAVAIL)
				rc = 0;
			if (rc < 0)
				break;
			deleted++;
		}
		/* Again until a dump finds nothing: the kernel takes a zero field of a delete
		 * request as "any", so it may have removed another rule than the one dumped
		 * (the caller re-adds its own), and batches are bounded. */
		if (rc < 0 || f.n == 0)
			break;
	}
	if (rc == 0 && pass == FLUSH_PASSES)
		rc = -EAGAIN;
	free(f.batch);
	return rc < 0 ? rc : deleted;
}
