/*
 * hdfs_wire.c — byte-level codecs shared by the RPC and data-transfer code: the data-transfer
 * packet header (varints: core_varint.h).
 *
 * A packet is BE u32 PLEN (4 + checksum bytes + data bytes), BE u16 HLEN, a PacketHeaderProto
 * of HLEN bytes (fixed-width little-endian fields), then the checksums (BE) and the data.
 * Everything read from a peer is untrusted: lengths are checked against ceilings before any
 * allocation, and the header decoder walks protobuf fields with bounds checks, skipping
 * unknown fields of every wire type.
 */
#include "hdfs.h"

#include <string.h>

static void le64_put(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t le64_get(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t le32_get(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

size_t cav_hdfs_pkt_encode(const cav_hdfs_pkt *h, size_t csum_len, uint8_t *out) {
    uint8_t *q = out + CAV_HDFS_PKT_PREFIX;
    *q++ = 0x09;
    le64_put(q, (uint64_t)h->offset);
    q += 8;
    *q++ = 0x11;
    le64_put(q, (uint64_t)h->seqno);
    q += 8;
    *q++ = 0x18;
    *q++ = h->last ? 1 : 0;
    *q++ = 0x25;
    uint32_t dl = (uint32_t)h->data_len;
    for (int i = 0; i < 4; i++)
        *q++ = (uint8_t)(dl >> (8 * i));
    if (h->sync) {
        *q++ = 0x28;
        *q++ = 1;
    }
    size_t hlen = (size_t)(q - out) - CAV_HDFS_PKT_PREFIX;
    cav_be32_put(out, (uint32_t)(4 + csum_len + (size_t)h->data_len));
    out[4] = (uint8_t)(hlen >> 8);
    out[5] = (uint8_t)hlen;
    return (size_t)(q - out);
}

csvavro_status cav_hdfs_pkt_prefix(const uint8_t *p6, uint32_t *plen, uint16_t *hlen,
                                   csvavro_error *err) {
    *plen = cav_be32_get(p6);
    *hlen = (uint16_t)((p6[4] << 8) | p6[5]);
    if (*plen < 4 || *plen > CAV_HDFS_PKT_MAX_PAYLOAD + 4)
        return cav_err(err, CSVAVRO_E_PROTOCOL, "datanode packet length %u out of range", *plen);
    if (*hlen == 0 || *hlen > CAV_HDFS_PKT_MAX_HEADER)
        return cav_err(err, CSVAVRO_E_PROTOCOL, "datanode packet header length %u out of range",
                       (unsigned)*hlen);
    return CSVAVRO_OK;
}

csvavro_status cav_hdfs_pkt_decode(const uint8_t *p, size_t hlen, cav_hdfs_pkt *h,
                                   csvavro_error *err) {
    memset(h, 0, sizeof *h);
    unsigned seen = 0;
    size_t i = 0;
    while (i < hlen) {
        uint64_t key;
        const uint8_t *q = p + i;
        if (!cav_varint_get(&q, p + hlen, &key)) goto bad;
        i = (size_t)(q - p);
        unsigned field = (unsigned)(key >> 3), wt = (unsigned)(key & 7);
        switch (wt) {
        case 0: {
            uint64_t v;
            if (!cav_varint_get(&q, p + hlen, &v)) goto bad;
            i = (size_t)(q - p);
            if (field == 3)
                h->last = v != 0, seen |= 4;
            else if (field == 5)
                h->sync = v != 0;
            break;
        }
        case 1:
            if (hlen - i < 8) goto bad;
            if (field == 1)
                h->offset = (int64_t)le64_get(p + i), seen |= 1;
            else if (field == 2)
                h->seqno = (int64_t)le64_get(p + i), seen |= 2;
            i += 8;
            break;
        case 2: {
            uint64_t len;
            if (!cav_varint_get(&q, p + hlen, &len)) goto bad;
            i = (size_t)(q - p);
            if (len > hlen - i) goto bad;
            i += (size_t)len;
            break;
        }
        case 5:
            if (hlen - i < 4) goto bad;
            if (field == 4) h->data_len = (int32_t)le32_get(p + i), seen |= 8;
            i += 4;
            break;
        default:
            goto bad;
        }
    }
    if (seen != 15)
        return cav_err(err, CSVAVRO_E_PROTOCOL, "datanode packet header lacks required fields");
    if (h->data_len < 0)
        return cav_err(err, CSVAVRO_E_PROTOCOL, "datanode packet with negative data length");
    return CSVAVRO_OK;
bad:
    return cav_err(err, CSVAVRO_E_PROTOCOL, "malformed datanode packet header");
}

csvavro_status cav_hdfs_pkt_check(const cav_hdfs_pkt *h, uint32_t plen, int csum_type, uint32_t bpc,
                                  size_t *csum_len, csvavro_error *err) {
    size_t sumsize = csum_type == CAV_HDFS_CSUM_NULL ? 0 : 4;
    if (bpc == 0) return cav_err(err, CSVAVRO_E_PROTOCOL, "bytesPerChecksum is 0");
    size_t chunks = ((size_t)h->data_len + bpc - 1) / bpc;
    *csum_len = chunks * sumsize;
    if ((size_t)plen - 4 != *csum_len + (size_t)h->data_len)
        return cav_err(
            err, CSVAVRO_E_PROTOCOL,
            "datanode packet length %u does not match %d data bytes and %zu checksum bytes", plen,
            (int)h->data_len, *csum_len);
    return CSVAVRO_OK;
}
