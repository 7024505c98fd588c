/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Users and groups of an app's image, looked up in the /etc/passwd and /etc/group of the root we are
 * chrooted into, by reading the files themselves: no NSS module of ours or of the image is loaded. libc
 * only, so that the in-pod helper of stage1-systemd can use it as well as stage1-fly. */

#include <stddef.h>
#include <sys/types.h>

typedef struct ImageUser {
        uid_t uid;
        gid_t gid;
        char *name;             /* NULL: a number the image does not list */
        char *home;
        gid_t *groups;          /* the supplementary groups /etc/group lists the user in */
        size_t n_groups;
} ImageUser;

/* user: NAME, a number, or OCI's "USER:GROUP" (NULL or "": root); group: NAME or a number (NULL: the
 * one after ':', else the user's). A number the image does not list runs as that number, in group 0, as
 * Docker does. -ESRCH: the user (*ret_missing = "user") or group ("group") is not in the image. */
int image_user_resolve(const char *user, const char *group, ImageUser *ret, const char **ret_missing);
void image_user_done(ImageUser *u);
