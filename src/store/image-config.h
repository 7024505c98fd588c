/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "json-util.h"
#include "store.h"

/* What an image says about how to run it: from the OCI config, plus what only an ACI manifest carries. */
typedef struct ImageConfig {
        char **entrypoint;
        char **cmd;
        char **env;             /* "K=V" */
        char *working_dir;
        char *user;
        char *group;
        char **ports;           /* named ports: OCI "80/tcp" → "80-tcp"; ACI ports keep their names, "NAME=80/tcp" */
        char **volumes;         /* mount points: "/data" (OCI), "NAME:/data[:ro]" (ACI mountPoints) */
        char **labels;          /* "K=V" */
        char **annotations;     /* ACI: "K=V" */
        char **isolators;       /* ACI: "NAME=JSON" */
        char **dependencies;    /* ACI: "IMAGENAME[:VERSION]" */
        char **pre_start;       /* ACI eventHandlers: the pre-start command (argv), run before the app */
        char **post_stop;       /* and the post-stop one, run after it ended */
        char *architecture;
        char *os;
} ImageConfig;

ImageConfig *image_config_free(ImageConfig *c);
DEFINE_POINTER_CLEANUP(ImageConfig, image_config_free);

/* Parses an OCI image config (and, if given, the ACI manifest of the same image). -EBADMSG on bad input. */
int image_config_parse(json_object *oci, json_object *aci, ImageConfig **ret);
int image_config_load(Store *s, const ImageRecord *rec, ImageConfig **ret);
/* As JSON, for `rocket image inspect`. */
int image_config_to_json(const ImageConfig *c, json_object **ret);
