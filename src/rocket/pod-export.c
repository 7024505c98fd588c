/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "json-util.h"
#include "log.h"
#include "pod-export.h"
#include "pod-userns.h"
#include "string-util.h"

static void archive_write_freep(struct archive **a) {
        if (*a)
                archive_write_free(*a);
}
static void archive_read_freep(struct archive **a) {
        if (*a)
                archive_read_free(*a);
}
DEFINE_POINTER_CLEANUP(struct archive_entry, archive_entry_free);

/* appc's arch label from the kernel's machine name. */
static const char *aci_arch(void) {
        static const struct { const char *machine, *arch; } table[] = {
                { "x86_64", "amd64" }, { "aarch64", "arm64" }, { "i686", "i386" }, { "i386", "i386" },
                { "armv7l", "armv7l" }, { "ppc64le", "ppc64le" }, { "s390x", "s390x" }, { "riscv64", "riscv64" },
        };
        static struct utsname u;

        if (uname(&u) < 0)
                return "unknown";
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(u.machine, table[i].machine))
                        return table[i].arch;
        return u.machine;
}

/* An appc AC Identifier from the image's name without its tag or digest ("docker.io/library/busybox:1" →
 * "docker.io/library/busybox"): lower case, anything else a '-'. */
static char *aci_name(const PodApp *a) {
        const char *src = a->image_name ?: a->name, *slash = strrchr(src, '/');
        size_t n = (size_t) ((slash ? slash : src) - src) + strcspn(slash ?: src, ":@");
        char *s = strndup(src, n);

        if (!s)
                return NULL;
        if (!*s) {
                free(s);
                return strdup("x");
        }
        for (char *c = s; *c; c++) {
                *c = (char) (*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
                if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._-~/", *c))
                        *c = '-';
        }
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
                s[0] = 'x';
        return s;
}

static int nv(json_object *array, const char *name, const char *value) {
        json_object *o = json_object_new_object();

        if (!o || json_object_array_add(array, o) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        return json_add_string(o, "name", name) < 0 || json_add_string(o, "value", value) < 0 ? -ENOMEM : 0;
}

/* The image manifest: the app as the pod ran it. */
static int export_manifest(const Pod *p, const PodApp *a, char **ret) {
        _cleanup_(json_object_putp) json_object *m = json_object_new_object();
        _cleanup_free_ char *name = aci_name(a);
        json_object *labels = json_object_new_array(), *app = json_object_new_object(),
                    *env = json_object_new_array(), *ann = json_object_new_array();
        char created[64], version[32];
        time_t now = time(NULL);
        struct tm tm;

        if (!m || !name || json_add(m, "labels", labels) < 0 || json_add(m, "app", app) < 0 ||
            json_add(m, "annotations", ann) < 0 || json_add(app, "environment", env) < 0)
                return -ENOMEM;
        strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        /* A version of its own: fetched back, it does not take over the name of the image the pod ran. */
        snprintf(version, sizeof version, "exported-%.8s", p->uuid);
        if (json_add_string(m, "acKind", "ImageManifest") < 0 || json_add_string(m, "acVersion", "0.8.11") < 0 ||
            json_add_string(m, "name", name) < 0 || nv(labels, "version", version) < 0 ||
            nv(labels, "os", "linux") < 0 || nv(labels, "arch", aci_arch()) < 0 ||
            json_add(app, "exec", strv_to_json(a->exec)) < 0 || json_add_string(app, "user", a->user ?: "0") < 0 ||
            json_add_string(app, "group", a->group ?: "0") < 0 ||
            (a->working_dir && json_add_string(app, "workingDirectory", a->working_dir) < 0) ||
            nv(ann, "created", created) < 0 || nv(ann, "rocket.exported-from-pod", p->uuid) < 0 ||
            nv(ann, "rocket.exported-from-app", a->name) < 0)
                return -ENOMEM;
        STRV_FOREACH(kv, a->env) {
                size_t k = strcspn(*kv, "=");
                _cleanup_free_ char *key = strndup(*kv, k);

                if (!key || nv(env, key, (*kv)[k] ? *kv + k + 1 : "") < 0)
                        return -ENOMEM;
        }
        *ret = strdup(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY|JSON_C_TO_STRING_NOSLASHESCAPE));
        return *ret ? 0 : -ENOMEM;
}

/* The app's root as it was left: its writable layer over its image's layers, all of them lower layers of a
 * read-only overlay that is mounted nowhere (the layers' names are resolved from layers_dir as given); with
 * --no-overlay, its copy. */
static int export_overlay(const Pod *p, const PodApp *a, int *ret) {
        _cleanup_free_ char *lower = NULL, *all = NULL, *path = NULL;
        _cleanup_close_ int upper = -EBADF, fs = -EBADF, cwd = -EBADF;
        struct open_how how = { .flags = O_RDONLY|O_DIRECTORY|O_CLOEXEC,
                                .resolve = RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS };
        int mnt, r = 0;

        /* --no-overlay: the app's own copy is its root. */
        if (asprintf(&path, "apps/%s/%s", a->name, p->manifest->no_overlay ? "rootfs" : "upper") < 0)
                return -ENOMEM;
        upper = (int) syscall(SYS_openat2, p->dir_fd, path, &how, sizeof how);
        if (upper < 0)
                return log_error_errno(errno, "App %s of pod %s has no %s to export: %m", a->name, p->uuid,
                                       p->manifest->no_overlay ? "root file system" : "writable layer");
        if (p->manifest->no_overlay) {
                *ret = TAKE_FD(upper);
                return 0;
        }
        if (pod_app_lowerdir(a, &lower) < 0 || asprintf(&all, "/proc/self/fd/%i:%s", upper, lower) < 0)
                return log_oom();
        fs = (int) syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
        if (fs < 0)
                return log_error_errno(errno, "Failed to set up an overlay: %m");
        cwd = open(".", O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (cwd < 0 || chdir(a->layers_dir) < 0)
                return log_error_errno(errno, "Failed to open the layers of app %s at %s: %m", a->name, a->layers_dir);
        if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir", all, 0) < 0 ||
            syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                r = -errno;
        if (fchdir(cwd) < 0 && r >= 0)
                r = -errno;
        if (r < 0)
                return log_error_errno(r, "Failed to merge the layers of app %s: %m", a->name);
        mnt = (int) syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NOEXEC);
        if (mnt < 0)
                return log_error_errno(errno, "Failed to merge the layers of app %s: %m", a->name);
        *ret = mnt;
        return 0;
}

static int write_blob(struct archive *w, const char *name, const char *data) {
        _cleanup_(archive_entry_freep) struct archive_entry *e = archive_entry_new();

        if (!e)
                return -ENOMEM;
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t) strlen(data));
        archive_entry_set_mtime(e, time(NULL), 0);
        if (archive_write_header(w, e) != ARCHIVE_OK ||
            archive_write_data(w, data, strlen(data)) != (la_ssize_t) strlen(data))
                return -EIO;
        return 0;
}

/* An owner as the pod saw it: its user namespace's range shifted back to 0…65535. */
static int64_t unshift(int64_t id, uint32_t base) {
        return base && id >= base && id < (int64_t) base + POD_USERNS_SIZE ? id - base : id;
}

static int write_tree(struct archive *w, int root_fd, uint32_t userns_base) {
        _cleanup_(archive_read_freep) struct archive *disk = archive_read_disk_new();
        char root[64];
        size_t prefix;
        int r;

        if (!disk)
                return -ENOMEM;
        snprintf(root, sizeof root, "/proc/self/fd/%i", root_fd);
        prefix = strlen(root);
        /* The root given is followed (it is our mount), nothing under it; owners by number only. */
        archive_read_disk_set_symlink_hybrid(disk);
        if (archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS) != ARCHIVE_OK ||
            archive_read_disk_open(disk, root) != ARCHIVE_OK)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "Failed to read the app's root: %s",
                                       archive_error_string(disk));
        for (;;) {
                _cleanup_(archive_entry_freep) struct archive_entry *e = archive_entry_new();
                _cleanup_free_ char *name = NULL;
                const char *path;

                if (!e)
                        return log_oom();
                r = archive_read_next_header2(disk, e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return log_error_errno(SYNTHETIC_ERRNO(EIO), "Failed to read the app's root: %s",
                                               archive_error_string(disk));
                path = archive_entry_pathname(e);
                if (asprintf(&name, "rootfs%s", path + MIN(prefix, strlen(path))) < 0)
                        return log_oom();
                archive_entry_set_pathname(e, name);
                archive_entry_set_uid(e, unshift(archive_entry_uid(e), userns_base));
                archive_entry_set_gid(e, unshift(archive_entry_gid(e), userns_base));
                archive_entry_set_uname(e, NULL);
                archive_entry_set_gname(e, NULL);
                (void) archive_read_disk_descend(disk);
                if (archive_entry_filetype(e) == AE_IFSOCK)
                        continue;       /* a tar cannot hold one; a socket is nothing without its process */
                if (archive_write_header(w, e) < ARCHIVE_WARN)
                        return log_error_errno(SYNTHETIC_ERRNO(EIO), "Failed to write %s: %s", name, archive_error_string(w));
                if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0)
                        for (;;) {
                                const void *buf;
                                size_t size;
                                la_int64_t off;

                                r = archive_read_data_block(disk, &buf, &size, &off);
                                if (r == ARCHIVE_EOF)
                                        break;
                                if (r < ARCHIVE_WARN)
                                        return log_error_errno(SYNTHETIC_ERRNO(EIO), "Failed to read %s: %s", name,
                                                               archive_error_string(disk));
                                if (archive_write_data(w, buf, size) != (la_ssize_t) size)
                                        return log_error_errno(SYNTHETIC_ERRNO(EIO), "Failed to write %s: %s", name,
                                                               archive_error_string(w));
                        }
        }
        return 0;
}

int pod_export_aci(const Pod *p, const PodApp *a, int fd) {
        _cleanup_(archive_write_freep) struct archive *w = archive_write_new();
        _cleanup_free_ char *manifest = NULL;
        _cleanup_close_ int root = -EBADF;
        int r;

        if (!w)
                return log_oom();
        r = export_manifest(p, a, &manifest);
        if (r < 0)
                return log_oom();
        r = export_overlay(p, a, &root);
        if (r < 0)
                return r;
        if (archive_write_set_format_pax_restricted(w) != ARCHIVE_OK || archive_write_open_fd(w, fd) != ARCHIVE_OK)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "Failed to start the ACI: %s", archive_error_string(w));
        r = write_blob(w, "manifest", manifest);
        if (r < 0)
                return log_error_errno(r, "Failed to write the ACI's manifest: %m");
        r = write_tree(w, root, p->manifest->userns_base);
        if (r < 0)
                return r;
        if (archive_write_close(w) != ARCHIVE_OK)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "Failed to finish the ACI: %s", archive_error_string(w));
        return 0;
}
