/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "fs-util.h"
#include "image-config.h"
#include "json-util.h"
#include "log.h"
#include "output.h"
#include "rocket-pod.h"
#include "rocket-store.h"
#include "string-util.h"
#include "verb-all.h"

static void help(void) {
        printf("Usage: rocket image COMMAND [OPTIONS...] [ARGS...]\n"
               "\n"
               "Manage the image store.\n"
               "\n"
               "Commands:\n"
               "  list [--format=FMT] [--no-legend] [--full] [--fields=F,...] [--sort=FIELD] [--order=asc|desc]\n"
               "                                                 List images\n"
               "  rm [--force] IMAGE...                          Remove a name, or an image by ID with all its\n"
               "                                                 names (data goes at the next gc)\n"
               "  tag IMAGE NAME                                 Give an image another name\n"
               "  cat-manifest [--pretty-print] IMAGE            Print the image manifest\n"
               "  inspect IMAGE                                  Print how the image wants to be run (JSON)\n"
               "  export [--overwrite] IMAGE FILE                Write an OCI archive\n"
               "  render [--rootfs-only] [--overwrite] IMAGE DIR Write the image's root file system to DIR/rootfs\n"
               "  extract                                        Same as render\n"
               "  gc [--grace-period=DURATION]                   Remove unused images and data\n"
               "  verify                                         Recheck every blob's digest\n"
               "\n"
               "Options:\n"
               "  -h --help              Show this help\n"
               "     --format=FMT        table, json or json-pretty\n"
               "     --no-legend         Do not print the column headers\n"
               "     --full              Print full IDs\n"
               "     --sort=FIELD        Order the list by id, name, format, size, importtime (the\n"
               "                         default) or lastused\n"
               "     --order=ORDER       asc (the default) or desc\n"
               "     --fields=FIELD,...  The columns: id, name, format, size, importtime, lastused,\n"
               "                         signedby (default: all but signedby)\n"
               "     --pretty-print      Indent JSON\n"
               "     --overwrite         Replace an existing FILE or DIR\n"
               "     --rootfs-only       Write the root file system straight into DIR\n"
               "     --grace-period=DURATION  Keep images used within DURATION (default: 24h)\n"
               "     --force             Remove an image that pods use (its data stays until they are gone)\n");
}

enum {
        ARG_PRETTY = 0x100,
        ARG_OVERWRITE,
        ARG_ROOTFS_ONLY,
        ARG_GRACE,
        ARG_FORCE,
        ARG_SORT,
        ARG_ORDER,
        ARG_FIELDS,
};

typedef enum ImageSort {
        SORT_ID,
        SORT_NAME,
        SORT_FORMAT,
        SORT_SIZE,
        SORT_IMPORT_TIME,
        SORT_LAST_USED,
        SORT_SIGNED_BY,         /* a column only */
        _SORT_MAX,
        _SORT_INVALID = -EINVAL,
} ImageSort;

static const char *const image_sort_table[_SORT_MAX] = {
        [SORT_ID] = "id",
        [SORT_NAME] = "name",
        [SORT_FORMAT] = "format",
        [SORT_SIZE] = "size",
        [SORT_IMPORT_TIME] = "importtime",
        [SORT_LAST_USED] = "lastused",
        [SORT_SIGNED_BY] = "signedby",
};

static const char *const image_column_header[_SORT_MAX] = {
        [SORT_ID] = "ID",
        [SORT_NAME] = "NAME",
        [SORT_FORMAT] = "FORMAT",
        [SORT_SIZE] = "SIZE",
        [SORT_IMPORT_TIME] = "IMPORTED",
        [SORT_LAST_USED] = "LAST USED",
        [SORT_SIGNED_BY] = "SIGNED BY",
};

static ImageSort image_sort_from_string(const char *s) {
        for (int i = 0; i < _SORT_MAX; i++)
                if (streq(image_sort_table[i], s))
                        return (ImageSort) i;
        return _SORT_INVALID;
}

typedef struct ImageArgs {
        OutputArgs out;
        bool pretty;
        bool overwrite;
        bool rootfs_only;
        bool force;
        uint64_t grace_usec;
        ImageSort sort;
        bool descending;
        ImageSort fields[_SORT_MAX];    /* --fields, in order */
        size_t n_fields;
} ImageArgs;

/* The options of the image sub-commands: each has a table of its own (below), over one parser. */
#define IMAGE_OPTION_HELP { "help", no_argument, NULL, 'h' }
static const struct option list_options[] = {
        IMAGE_OPTION_HELP, OUTPUT_OPTION_FORMAT, OUTPUT_OPTION_NO_LEGEND, OUTPUT_OPTION_FULL,
        { "sort", required_argument, NULL, ARG_SORT }, { "order", required_argument, NULL, ARG_ORDER },
        { "fields", required_argument, NULL, ARG_FIELDS }, {}
};
static const struct option rm_options[] = {
        IMAGE_OPTION_HELP, { "force", no_argument, NULL, ARG_FORCE }, {}
};
static const struct option cat_manifest_options[] = {
        IMAGE_OPTION_HELP, { "pretty-print", no_argument, NULL, ARG_PRETTY }, {}
};
static const struct option export_options[] = {
        IMAGE_OPTION_HELP, { "overwrite", no_argument, NULL, ARG_OVERWRITE }, {}
};
static const struct option render_options[] = {
        IMAGE_OPTION_HELP, { "overwrite", no_argument, NULL, ARG_OVERWRITE },
        { "rootfs-only", no_argument, NULL, ARG_ROOTFS_ONLY }, {}
};
static const struct option gc_options[] = {
        IMAGE_OPTION_HELP, { "grace-period", required_argument, NULL, ARG_GRACE }, {}
};
static const struct option no_options[] = { IMAGE_OPTION_HELP, {} };

typedef struct ImageOptionContext {
        const char *verb;       /* "image VERB", for messages */
        ImageArgs *args;
} ImageOptionContext;

static int parse_image_option(int option, const char *arg, void *userdata) {
        ImageOptionContext *c = userdata;
        ImageArgs *a = c->args;
        int r;

        switch (option) {
        case ARG_PRETTY:
                a->pretty = true;
                return 0;
        case ARG_OVERWRITE:
                a->overwrite = true;
                return 0;
        case ARG_ROOTFS_ONLY:
                a->rootfs_only = true;
                return 0;
        case ARG_FORCE:
                a->force = true;
                return 0;
        case ARG_FIELDS: {
                _cleanup_strv_free_ char **l = NULL;

                if (strv_split(arg, ",", &l) < 0)
                        return log_oom();
                a->n_fields = 0;
                STRV_FOREACH(f, l) {
                        ImageSort k = image_sort_from_string(*f);

                        if (k < 0 || a->n_fields >= ELEMENTSOF(a->fields))
                                return log_usage("%s: unknown field '%s' (id, name, format, size, importtime, "
                                                 "lastused, signedby).", c->verb, *f);
                        a->fields[a->n_fields++] = k;
                }
                if (a->n_fields == 0)
                        return log_usage("%s: --fields= needs a field.", c->verb);
                return 0;
        }
        case ARG_SORT:
                a->sort = image_sort_from_string(arg);
                if (a->sort < 0 || a->sort == SORT_SIGNED_BY)
                        return log_usage("%s: cannot sort by '%s' (id, name, format, size, importtime, lastused).",
                                         c->verb, arg);
                return 0;
        case ARG_ORDER:
                if (!streq(arg, "asc") && !streq(arg, "desc"))
                        return log_usage("%s: invalid order '%s' (asc or desc).", c->verb, arg);
                a->descending = streq(arg, "desc");
                return 0;
        case ARG_GRACE:
                r = parse_duration(arg, &a->grace_usec);
                if (r < 0)
                        return log_usage("%s: invalid duration '%s'.", c->verb, arg);
                return 0;
        default:
                r = output_args_parse(&a->out, c->verb, option, arg);
                return r < 0 ? r : 0;
        }
}

static int parse_image_args(const char *verb, int argc, char *argv[], const struct option *options, ImageArgs *a) {
        ImageOptionContext c = { .verb = strjoina("image ", verb), .args = a };

        *a = (ImageArgs) {
                .out = OUTPUT_ARGS_INIT,
                .grace_usec = 24ULL * 3600 * 1000000,
                .sort = SORT_IMPORT_TIME,
                .fields = { SORT_ID, SORT_NAME, SORT_FORMAT, SORT_SIZE, SORT_IMPORT_TIME, SORT_LAST_USED },
                .n_fields = 6,
        };
        return verb_parse_options(c.verb, argc, argv, options, help, parse_image_option, &c);
}

static int need_args(const char *verb, int argc, int min, int max, const char *what) {
        int n = argc - optind;

        if (n < min || (max >= 0 && n > max))
                return log_usage("image %s: expected %s.", verb, what);
        return 0;
}

static int compare_u64(uint64_t a, uint64_t b) {
        return a < b ? -1 : a > b;
}

/* The image's first name, for sorting: its names are sorted, an unnamed one sorts first. */
static const char *first_name(const ImageRecord *r) {
        return r->names && r->names[0] ? r->names[0] : "";
}

static int compare_images(const void *x, const void *y, void *userdata) {
        const ImageRecord *a = *(ImageRecord *const *) x, *b = *(ImageRecord *const *) y;
        const ImageArgs *args = userdata;
        int c;

        switch (args->sort) {
        case SORT_ID:
                c = strcmp(a->id, b->id);
                break;
        case SORT_NAME:
                c = strcmp(first_name(a), first_name(b));
                break;
        case SORT_FORMAT:
                c = strcmp(image_format_to_string(a->format), image_format_to_string(b->format));
                break;
        case SORT_SIZE:
                c = compare_u64(a->size, b->size);
                break;
        case SORT_LAST_USED:
                c = compare_u64(a->last_used_usec, b->last_used_usec);
                break;
        default:
                c = compare_u64(a->import_usec, b->import_usec);
        }
        if (c == 0)
                c = strcmp(a->id, b->id);       /* a stable order whatever the field */
        return args->descending ? -c : c;
}

static int image_list(int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_(json_object_putp) json_object *arr = NULL;
        const char *header[_SORT_MAX];
        ImageRecord **images = NULL;
        ImageArgs a;
        size_t n = 0;
        int r;

        r = parse_image_args("list", argc, argv, list_options, &a);
        if (r <= 0)
                return r;
        r = need_args("list", argc, 0, 0, "no arguments");
        if (r < 0)
                return r;

        r = rocket_store_open(ctx, 0, &s);
        if (r < 0 && r != -ENOENT)
                return r;
        if (s) {
                r = store_image_list(s, &images, &n);
                if (r < 0)
                        return log_error_errno(r, "Failed to list images: %m");
                for (size_t i = 0; i < n; i++)
                        strv_sort(images[i]->names);
                qsort_r(images, n, sizeof *images, compare_images, &a);
        }

        for (size_t k = 0; k < a.n_fields; k++)
                header[k] = image_column_header[a.fields[k]];
        arr = json_object_new_array();
        t = table_new(header, a.n_fields);
        if (!arr || !t)
                goto oom;
        for (size_t i = 0; i < n; i++) {
                ImageRecord *rec = images[i];
                char id[DIGEST_STRING_MAX], size[32], imported[64], used[64];
                _cleanup_free_ char *names = NULL;
                json_object *o = json_object_new_object(), *nm = json_object_new_array();

                if (!o || json_object_array_add(arr, o) < 0) {
                        json_object_put(o);
                        json_object_put(nm);
                        goto oom;
                }
                if (json_add_string(o, "id", rec->id) < 0 || json_add(o, "names", nm) < 0 ||
                    json_add_string(o, "format", image_format_to_string(rec->format)) < 0 ||
                    json_add_int64(o, "size", (int64_t) rec->size) < 0 ||
                    json_add_int64(o, "layers", (int64_t) rec->n_layers) < 0 ||
                    json_add_int64(o, "importTime", (int64_t) rec->import_usec) < 0 ||
                    json_add_int64(o, "lastUsed", (int64_t) rec->last_used_usec) < 0 ||
                    (rec->signer ? json_add_string(o, "signedBy", rec->signer) : json_object_object_add(o, "signedBy", NULL)) < 0)
                        goto oom;
                STRV_FOREACH(name, rec->names)
                        if (json_object_array_add(nm, json_object_new_string(*name)) < 0)
                                goto oom;

                snprintf(id, sizeof id, "%s", rec->id);
                if (!a.out.full)
                        id[sizeof(DIGEST_PREFIX) - 1 + 12] = 0;
                for (size_t k = 0; rec->names && rec->names[k]; k++) {
                        char *m = NULL;
                        if (asprintf(&m, "%s%s%s", strempty(names), names ? "," : "", rec->names[k]) < 0)
                                goto oom;
                        free(names);
                        names = m;
                }
                {
                        const char *column[_SORT_MAX] = {
                                [SORT_ID] = id,
                                [SORT_NAME] = names,
                                [SORT_FORMAT] = image_format_to_string(rec->format),
                                [SORT_SIZE] = format_bytes(size, sizeof size, rec->size),
                                [SORT_IMPORT_TIME] = format_timestamp(imported, sizeof imported, rec->import_usec),
                                [SORT_LAST_USED] = format_timestamp(used, sizeof used, rec->last_used_usec),
                                [SORT_SIGNED_BY] = rec->signer,
                        };
                        const char *row[_SORT_MAX];

                        for (size_t k = 0; k < a.n_fields; k++)
                                row[k] = column[a.fields[k]];
                        if (table_add_row(t, row) < 0)
                                goto oom;
                }
        }
        image_record_array_free(images, n);

        if (a.out.format == OUTPUT_TABLE)
                table_print(t, a.out.legend);
        else
                output_print_json(arr, a.out.format);
        return 0;
oom:
        image_record_array_free(images, n);
        return log_oom();
}

/* One IMAGE of 'image rm': a name goes alone, unless it is the image's last; an ID takes the image with
 * all its names. An image that pods use stays (refused, or with --force marked removed, its names gone,
 * until the pods are). */
static int image_rm_one(Store *s, char *const *in_use, const char *what, bool force) {
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        _cleanup_free_ char *id = NULL;
        bool only_name;
        int r;

        r = rocket_image_resolve(s, what, &id);
        if (r < 0)
                return r;
        r = store_image_load(s, id, &rec);
        if (r < 0)
                return log_error_errno(r, "Failed to read image %s: %m", id);
        /* Named by one of its names (as the store spells them: "busybox" is "busybox:latest"). */
        only_name = store_ref_names(s, what, id) && strv_length(rec->names) > 1;
        if (only_name) {
                r = store_ref_remove(s, what);
                if (r < 0)
                        return log_error_errno(r, "Failed to remove the name '%s': %m", what);
                printf("%s\n", what);
                return 0;
        }
        if (strv_contains(in_use, id)) {
                if (!force)
                        return log_error_errno(SYNTHETIC_ERRNO(EBUSY),
                                               "Image %s is used by a pod; remove the pod first, or give --force "
                                               "(its data then stays until no pod uses it).", id);
                r = store_image_mark_removed(s, id);
                if (r < 0)
                        return log_error_errno(r, "Failed to remove image %s: %m", id);
                log_info("Image %s is used by a pod: its names are gone, its data stays until no pod uses it.", id);
        } else {
                r = store_image_remove(s, id);
                if (r < 0)
                        return log_error_errno(r, "Failed to remove image %s: %m", id);
        }
        printf("%s\n", id);
        return 0;
}

static int image_rm(int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_strv_free_ char **in_use = NULL;
        ImageArgs a;
        int r, ret = 0;

        r = parse_image_args("rm", argc, argv, rm_options, &a);
        if (r <= 0)
                return r;
        r = need_args("rm", argc, 1, -1, "one or more IMAGEs");
        if (r < 0)
                return r;
        r = rocket_store_open(ctx, 0, &s);
        if (r == -ENOENT)
                return log_error_errno(r, "No image is named '%s' or has an ID starting with it.", argv[optind]);
        if (r < 0)
                return r;
        r = rocket_pods_images_in_use(ctx, &in_use);
        if (r < 0)
                return log_error_errno(r, "Failed to list the images pods use: %m");
        for (int i = optind; i < argc; i++) {
                r = image_rm_one(s, in_use, argv[i], a.force);
                if (r < 0)
                        ret = r;
        }
        return ret;
}

/* Opens the store read-only and resolves the one IMAGE argument. */
static int open_one_image(RocketContext *ctx, const char *what, Store **ret_store, ImageRecord **ret_rec) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *id = NULL;
        int r;

        r = rocket_store_open(ctx, 0, &s);
        if (r == -ENOENT)
                return log_error_errno(r, "No image is named '%s' or has an ID starting with it.", what);
        if (r < 0)
                return r;
        r = rocket_image_resolve(s, what, &id);
        if (r < 0)
                return r;
        r = store_image_load(s, id, ret_rec);
        if (r < 0)
                return log_error_errno(r, "Failed to load image %s: %m", id);
        *ret_store = TAKE_PTR(s);
        return 0;
}

static int image_tag(int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        ImageArgs a;
        int r;

        r = parse_image_args("tag", argc, argv, no_options, &a);
        if (r <= 0)
                return r;
        r = need_args("tag", argc, 2, 2, "IMAGE and a NAME");
        if (r < 0)
                return r;
        if (!image_name_is_valid(argv[optind + 1]))
                return log_usage("image tag: invalid image name '%s'.", argv[optind + 1]);
        r = open_one_image(ctx, argv[optind], &s, &rec);
        if (r < 0)
                return r;
        /* A name points at one image: given to another, it moves, as docker tag does. */
        r = store_ref_set(s, argv[optind + 1], rec->id);
        if (r < 0)
                return log_error_errno(r, "Failed to name image %s '%s': %m", rec->id, argv[optind + 1]);
        printf("%s\n", rec->id);
        return 0;
}

static int image_cat_manifest(int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_close_ int fd = -EBADF;
        ImageArgs a;
        int r;

        r = parse_image_args("cat-manifest", argc, argv, cat_manifest_options, &a);
        if (r <= 0)
                return r;
        r = need_args("cat-manifest", argc, 1, 1, "one IMAGE");
        if (r < 0)
                return r;
        r = open_one_image(ctx, argv[optind], &s, &rec);
        if (r < 0)
                return r;
        /* An ACI's own manifest is what its users know; OCI images show their OCI manifest. */
        r = store_blob_open(s, rec->aci_manifest ?: rec->id, &fd);
        if (r >= 0)
                r = json_parse_fd(fd, STORE_JSON_SIZE_MAX, &o);
        if (r < 0)
                return log_error_errno(r, "Failed to read the manifest of %s: %m", rec->id);
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE |
                                                      (a.pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN)));
        return 0;
}

static int image_inspect(int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        _cleanup_(image_config_freep) ImageConfig *cfg = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        ImageArgs a;
        int r;

        r = parse_image_args("inspect", argc, argv, no_options, &a);
        if (r <= 0)
                return r;
        r = need_args("inspect", argc, 1, 1, "one IMAGE");
        if (r < 0)
                return r;
        r = open_one_image(ctx, argv[optind], &s, &rec);
        if (r < 0)
                return r;
        r = image_config_load(s, rec, &cfg);
        if (r < 0)
                return log_error_errno(r, "Failed to read the configuration of %s: %m", rec->id);
        r = image_config_to_json(cfg, &o);
        if (r < 0)
                return log_oom();
        /* Whether, and by which key, a signature was verified when it came in. */
        if (json_add_string(o, "id", rec->id) < 0 ||
            (rec->signer ? json_add_string(o, "signedBy", rec->signer) : json_object_object_add(o, "signedBy", NULL)) < 0)
                return log_oom();
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY|JSON_C_TO_STRING_NOSLASHESCAPE));
        return 0;
}

static int image_export(int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *file;
        ImageArgs a;
        int r;

        r = parse_image_args("export", argc, argv, export_options, &a);
        if (r <= 0)
                return r;
        r = need_args("export", argc, 2, 2, "IMAGE FILE");
        if (r < 0)
                return r;
        file = argv[optind + 1];
        if (!a.overwrite && access(file, F_OK) >= 0)
                return log_error_errno(SYNTHETIC_ERRNO(EEXIST), "'%s' exists; use --overwrite to replace it.", file);
        r = open_one_image(ctx, argv[optind], &s, &rec);
        if (r < 0)
                return r;

        if (asprintf(&tmp, "%s.rocket-export", file) < 0)
                return log_oom();
        fd = open(tmp, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644);
        if (fd < 0)
                return log_error_errno(errno, "Failed to create '%s': %m", tmp);
        r = store_export_oci_archive(s, rec->id, rec->names ? rec->names[0] : NULL, fd);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, file) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return log_error_errno(r, "Failed to export %s to '%s': %m", rec->id, file);
        }
        printf("%s\n", rec->id);
        return 0;
}

static int image_render(int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        _cleanup_free_ char *entry = NULL;
        _cleanup_close_ int dir_fd = -EBADF, root_fd = -EBADF;
        const char *dir, *verb = argv[0];
        ImageArgs a;
        int r;

        r = parse_image_args(verb, argc, argv, render_options, &a);
        if (r <= 0)
                return r;
        r = need_args(verb, argc, 2, 2, "IMAGE DIR");
        if (r < 0)
                return r;
        dir = argv[optind + 1];
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "image %s needs root (file ownership and devices).",
                                       verb);
        r = open_one_image(ctx, argv[optind], &s, &rec);
        if (r < 0)
                return r;

        if (access(dir, F_OK) >= 0) {
                if (!a.overwrite)
                        return log_error_errno(SYNTHETIC_ERRNO(EEXIST), "'%s' exists; use --overwrite to replace it.",
                                               dir);
                r = rm_rf_at(AT_FDCWD, dir);
                if (r < 0)
                        return log_error_errno(r, "Failed to remove '%s': %m", dir);
        }
        r = mkdir_p_at(AT_FDCWD, dir, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create '%s': %m", dir);
        dir_fd = open(dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (dir_fd < 0)
                return log_error_errno(errno, "Failed to open '%s': %m", dir);
        if (a.rootfs_only)
                root_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        else {
                _cleanup_(json_object_putp) json_object *m = NULL;
                _cleanup_close_ int mfd = -EBADF;

                r = store_blob_open(s, rec->aci_manifest ?: rec->id, &mfd);
                if (r >= 0)
                        r = json_parse_fd(mfd, STORE_JSON_SIZE_MAX, &m);
                if (r >= 0)
                        r = json_write_file_atomic_at(dir_fd, "manifest", m, JSON_C_TO_STRING_PRETTY|
                                                      JSON_C_TO_STRING_NOSLASHESCAPE, 0644);
                if (r < 0)
                        return log_error_errno(r, "Failed to write '%s/manifest': %m", dir);
                root_fd = open_mkdir_at(dir_fd, "rootfs", 0755);
        }
        if (root_fd < 0)
                return log_error_errno(root_fd, "Failed to create the root file system in '%s': %m", dir);

        r = store_image_render(s, rec->id, root_fd, true, &entry);
        if (r < 0) {
                if (entry)
                        return log_error_errno(r, "Failed to render %s: bad entry '%s': %m", rec->id, entry);
                return log_error_errno(r, "Failed to render %s: %m", rec->id);
        }
        return 0;
}

static int image_gc(int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_strv_free_ char **keep = NULL;
        StoreGcStats st = {};
        char size[32];
        ImageArgs a;
        int r;

        r = parse_image_args("gc", argc, argv, gc_options, &a);
        if (r <= 0)
                return r;
        r = need_args("gc", argc, 0, 0, "no arguments");
        if (r < 0)
                return r;
        r = rocket_store_open(ctx, STORE_EXCLUSIVE, &s);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        /* Images that pods still use stay, whatever their age. */
        r = rocket_pods_images_in_use(ctx, &keep);
        if (r < 0)
                return log_error_errno(r, "Failed to list the images pods use: %m");
        r = store_gc(s, a.grace_usec, keep, &st);
        if (r < 0)
                return log_error_errno(r, "Image garbage collection failed: %m");
        log_info("Removed %u image(s), %u blob(s) (%s), %u layer tree(s), %u temporary leftover(s).",
                 st.images, st.blobs, format_bytes(size, sizeof size, st.bytes), st.layers, st.tmp);
        return 0;
}

static void verify_report(void *userdata, const char *what, const char *problem) {
        log_error("%s: %s", what, problem);
}

static int image_verify(int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(store_freep) Store *s = NULL;
        ImageArgs a;
        int r;

        r = parse_image_args("verify", argc, argv, no_options, &a);
        if (r <= 0)
                return r;
        r = need_args("verify", argc, 0, 0, "no arguments");
        if (r < 0)
                return r;
        r = rocket_store_open(ctx, 0, &s);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = store_verify(s, verify_report, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to verify the store: %m");
        if (r > 0)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "The store has %d problem(s).", r);
        return 0;
}

static int image_help(int argc, char *argv[], RocketContext *ctx) {
        help();
        return 0;
}

static const Verb image_verbs[] = {
        { "list", image_list, NULL },
        { "rm", image_rm, NULL },
        { "tag", image_tag, NULL },
        { "cat-manifest", image_cat_manifest, NULL },
        { "inspect", image_inspect, NULL },
        { "export", image_export, NULL },
        { "render", image_render, NULL },
        { "extract", image_render, NULL },
        { "gc", image_gc, NULL },
        { "verify", image_verify, NULL },
        { "help", image_help, NULL },
        { "--help", image_help, NULL },
        { "-h", image_help, NULL },
        {}
};

int verb_image(int argc, char *argv[], RocketContext *ctx) {
        return verbs_dispatch(image_verbs, "image command", argc - 1, argv + 1, ctx);
}
