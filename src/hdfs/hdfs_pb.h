/*
 * hdfs_pb.h — protobuf helpers shared by the client files that speak ClientProtocol and the
 * data transfer protocol (hdfs_fs.c, hdfs_read.c, hdfs_write.c): the NameNode call macro, the
 * free macro for decoded messages, and the header every DataNode operation starts with.
 */
#ifndef CAV_HDFS_PB_H
#define CAV_HDFS_PB_H

#include "hdfs.h"

#include "hdfs/ClientNamenodeProtocol.pb-c.h"
#include "hdfs/datatransfer.pb-c.h"

/* Calls ClientProtocol method (a string) on h's NameNode with request req; *out receives the
 * decoded Hadoop__Hdfs__<resp_name> (free it with FREE_PB). */
#define CALL(h, method, req, resp_name, out, err)                                                  \
    cav_hdfs_rpc_call((h)->rpc, method, &(req).base, &hadoop__hdfs__##resp_name##__descriptor,     \
                      (ProtobufCMessage **)(out), err)
#define FREE_PB(m)                                                                                 \
    do {                                                                                           \
        if (m) protobuf_c_message_free_unpacked(&(m)->base, &cav_pb_alloc);                        \
    } while (0)

/* The header of a DataNode operation (READ_BLOCK, WRITE_BLOCK): block, its token, client. The
 * messages point into each other and into b: keep o and b alive while the op is packed. */
typedef struct cav_hdfs_op_header {
    Hadoop__Hdfs__BaseHeaderProto base;
    Hadoop__Hdfs__ClientOperationHeaderProto client;
} cav_hdfs_op_header;

static inline void cav_hdfs_op_header_init(cav_hdfs_op_header *o,
                                           const Hadoop__Hdfs__LocatedBlockProto *b,
                                           const char *client_name) {
    Hadoop__Hdfs__BaseHeaderProto bh = HADOOP__HDFS__BASE_HEADER_PROTO__INIT;
    Hadoop__Hdfs__ClientOperationHeaderProto ch = HADOOP__HDFS__CLIENT_OPERATION_HEADER_PROTO__INIT;
    o->base = bh;
    o->base.block = b->b;
    o->base.token = b->blocktoken;
    o->client = ch;
    o->client.baseheader = &o->base;
    o->client.clientname = (char *)client_name;
}

#endif /* CAV_HDFS_PB_H */
