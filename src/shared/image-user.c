/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image-user.h"

static bool is_number(const char *s) {
        return *s && strspn(s, "0123456789") == strlen(s);
}

static int find_user(const char *spec, ImageUser *u) {
        FILE *f = fopen("/etc/passwd", "re");
        struct passwd *pw;

        while (f && (pw = fgetpwent(f)))
                if (is_number(spec) ? pw->pw_uid == (uid_t) strtoul(spec, NULL, 10) : strcmp(pw->pw_name, spec) == 0) {
                        u->uid = pw->pw_uid;
                        u->gid = pw->pw_gid;
                        u->name = strdup(pw->pw_name);
                        u->home = strdup(pw->pw_dir);
                        fclose(f);
                        return u->name && u->home ? 0 : -ENOMEM;
                }
        if (f)
                fclose(f);
        if (!is_number(spec))
                return -ESRCH;
        u->uid = (uid_t) strtoul(spec, NULL, 10);
        u->gid = 0;
        u->home = strdup("/");
        return u->home ? 0 : -ENOMEM;
}

static int find_group(const char *spec, gid_t *ret) {
        struct group *gr;
        FILE *f;

        if (is_number(spec)) {
                *ret = (gid_t) strtoul(spec, NULL, 10);
                return 0;
        }
        f = fopen("/etc/group", "re");
        while (f && (gr = fgetgrent(f)))
                if (strcmp(gr->gr_name, spec) == 0) {
                        *ret = gr->gr_gid;
                        fclose(f);
                        return 0;
                }
        if (f)
                fclose(f);
        return -ESRCH;
}

static int supplementary_groups(ImageUser *u) {
        FILE *f;
        struct group *gr;

        if (!u->name)
                return 0;
        f = fopen("/etc/group", "re");
        while (f && (gr = fgetgrent(f))) {
                if (gr->gr_gid == u->gid)
                        continue;
                for (char **m = gr->gr_mem; m && *m; m++)
                        if (strcmp(*m, u->name) == 0) {
                                gid_t *t = realloc(u->groups, (u->n_groups + 1) * sizeof(gid_t));

                                if (!t) {
                                        fclose(f);
                                        return -ENOMEM;
                                }
                                u->groups = t;
                                u->groups[u->n_groups++] = gr->gr_gid;
                                break;
                        }
        }
        if (f)
                fclose(f);
        return 0;
}

int image_user_resolve(const char *user, const char *group, ImageUser *ret, const char **ret_missing) {
        ImageUser u = {};
        char *name = NULL;
        const char *colon;
        int r;

        *ret_missing = NULL;
        if (!user || !*user)
                user = "0";
        colon = strchr(user, ':');
        if (colon && (!group || !*group))
                group = colon + 1;
        name = strndup(user, colon ? (size_t) (colon - user) : strlen(user));
        if (!name)
                return -ENOMEM;
        r = find_user(*name ? name : "0", &u);
        free(name);
        if (r == -ESRCH)
                *ret_missing = "user";
        if (r >= 0 && group && *group) {
                r = find_group(group, &u.gid);
                if (r == -ESRCH)
                        *ret_missing = "group";
        }
        if (r >= 0)
                r = supplementary_groups(&u);
        if (r < 0) {
                image_user_done(&u);
                return r;
        }
        *ret = u;
        return 0;
}

void image_user_done(ImageUser *u) {
        free(u->name);
        free(u->home);
        free(u->groups);
        *u = (ImageUser) {};
}
