/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "fs-util.h"
#include "json-util.h"
#include "store.h"
#include "string-util.h"
#include "time-util.h"

static const char *const image_format_table[_IMAGE_FORMAT_MAX] = {
        [IMAGE_FORMAT_OCI] = "oci",
        [IMAGE_FORMAT_DOCKER] = "docker",
        [IMAGE_FORMAT_ACI] = "aci",
        [IMAGE_FORMAT_REGISTRY] = "registry",
};

DEFINE_STRING_TABLE(image_format, ImageFormat, _IMAGE_FORMAT_MAX);

ImageRecord *image_record_free(ImageRecord *r) {
        if (!r)
                return NULL;
        free(r->id);
        free(r->config);
        free(r->aci_manifest);
        free(r->signer);
        for (size_t i = 0; i < r->n_layers; i++) {
                free(r->layers[i].digest);
                free(r->layers[i].media_type);
                free(r->layers[i].diff_id);
        }
        free(r->layers);
        strv_free(r->names);
        free(r);
        return NULL;
}

void image_record_array_free(ImageRecord **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                image_record_free(l[i]);
        free(l);
}

bool image_name_is_valid(const char *name) {
        size_t n;

        if (isempty(name))
                return false;
        n = strlen(name);
        if (n > IMAGE_NAME_MAX)
                return false;
        if (!isalnum((unsigned char) name[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) name[i]) && !strchr("._-/:@", name[i]))
                        return false;
        /* No path games, and no name that looks like an ID prefix. */
        if (strstr(name, "..") || strstr(name, "//") || name[n - 1] == '/' || startswith(name, DIGEST_PREFIX))
                return false;
        return true;
}

static int ref_file_name(const char *name, char **ret) {
        char *e, *p;

        e = malloc(strlen(name) * 3 + 1);
        if (!e)
                return -ENOMEM;
        p = e;
        for (const char *s = name; *s; s++)
                if (*s == '/' || *s == '%')
                        p += sprintf(p, "%%%02X", (unsigned char) *s);
                else
                        *p++ = *s;
        *p = 0;
        *ret = e;
        return 0;
}

static int ref_name_from_file(const char *file, char **ret) {
        char *n, *p;

        n = p = malloc(strlen(file) + 1);
        if (!n)
                return -ENOMEM;
        for (const char *s = file; *s; s++) {
                unsigned v;

                if (*s == '%' && sscanf(s + 1, "%2X", &v) == 1 && isxdigit((unsigned char) s[1]) &&
                    isxdigit((unsigned char) s[2])) {
                        *p++ = (char) v;
                        s += 2;
                } else
                        *p++ = *s;
        }
        *p = 0;
        *ret = n;
        return 0;
}

/* "busybox" means "busybox:latest"; a name with a tag or digest stays as it is. */
static int name_normalize(const char *name, char **ret) {
        const char *slash = strrchr(name, '/'), *last = slash ? slash + 1 : name;

        if (strchr(last, ':') || strchr(last, '@'))
                *ret = strdup(name);
        else if (asprintf(ret, "%s:latest", name) < 0)
                *ret = NULL;
        return *ret ? 0 : -ENOMEM;
}

/* The file in refs/ of a name, as the store spells it. */
static int ref_file_of(const char *name, char **ret) {
        _cleanup_free_ char *norm = NULL;
        int r;

        if (!image_name_is_valid(name))
                return -EINVAL;
        r = name_normalize(name, &norm);
        if (r < 0)
                return r;
        return ref_file_name(norm, ret);
}

int store_ref_set(Store *s, const char *name, const char *id) {
        _cleanup_free_ char *file = NULL, *text = NULL;
        int r;

        if (!digest_is_valid(id))
                return -EINVAL;
        r = ref_file_of(name, &file);
        if (r < 0)
                return r;
        if (asprintf(&text, "%s\n", id) < 0)
                return -ENOMEM;
        return write_file_atomic_at(s->refs_fd, file, text, strlen(text), 0644);
}

static int ref_read(Store *s, const char *file, char **ret_id) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_full_file_at(s->refs_fd, file, 256, &text, NULL);
        if (r < 0)
                return r;
        text[strcspn(text, "\n")] = 0;
        if (!digest_is_valid(text))
                return -EBADMSG;
        *ret_id = TAKE_PTR(text);
        return 0;
}

int store_ref_get(Store *s, const char *name, char **ret_id) {
        _cleanup_free_ char *file = NULL;
        int r;

        r = ref_file_of(name, &file);
        if (r < 0)
                return r;
        return ref_read(s, file, ret_id);
}

bool store_ref_names(Store *s, const char *what, const char *id) {
        _cleanup_free_ char *by_name = NULL;

        return image_name_is_valid(what) && store_ref_get(s, what, &by_name) >= 0 && streq(by_name, id);
}

int store_ref_remove(Store *s, const char *name) {
        _cleanup_free_ char *file = NULL;
        int r;

        r = ref_file_of(name, &file);
        if (r < 0)
                return r;
        return unlinkat(s->refs_fd, file, 0) < 0 ? -errno : 0;
}

int store_ref_list(Store *s, char ***ret_names, char ***ret_ids) {
        _cleanup_strv_free_ char **names = NULL, **ids = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = opendir_at(s->refs_fd, ".", &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (de = readdir(d)); ) {
                _cleanup_free_ char *name = NULL, *id = NULL;

                if (de->d_name[0] == '.')       /* ".", "..", and ".#…" temp files */
                        continue;
                if (ref_read(s, de->d_name, &id) < 0)
                        continue;
                r = ref_name_from_file(de->d_name, &name);
                if (r < 0)
                        return r;
                r = strv_push(&names, name);
                if (r < 0)
                        return r;
                TAKE_PTR(name);
                r = strv_push(&ids, id);
                if (r < 0)
                        return r;
                TAKE_PTR(id);
        }
        if (!names) {
                names = calloc(1, sizeof(char *));
                ids = calloc(1, sizeof(char *));
                if (!names || !ids)
                        return -ENOMEM;
        }
        *ret_names = TAKE_PTR(names);
        *ret_ids = TAKE_PTR(ids);
        return 0;
}

static int record_file_name(const char *id, const char *suffix, char name[static DIGEST_STRING_MAX + 16]) {
        if (!digest_is_valid(id))
                return -EINVAL;
        snprintf(name, DIGEST_STRING_MAX + 16, "sha256-%s%s", digest_hex(id), suffix);
        return 0;
}

/* 0 when the store holds a record of image id; -ENOENT when not, -EINVAL for what is no ID. */
static int record_exists(const Store *s, const char *id) {
        char file[DIGEST_STRING_MAX + 16];
        int r;

        r = record_file_name(id, ".json", file);
        if (r < 0)
                return r;
        return faccessat(s->images_fd, file, F_OK, 0) < 0 ? -errno : 0;
}

static int dup_string(json_object *o, const char *key, bool required, char **ret) {
        const char *v;
        int r;

        r = json_get_string(o, key, &v);
        if (r == -ENOENT && !required) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

/* names/ids: every ref of the store, read once by the caller (image list reads them once for all images). */
static int image_load_with_refs(Store *s, const char *id, char **names, char **ids, ImageRecord **ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        char file[DIGEST_STRING_MAX + 16];
        const char *format;
        json_object *layers;
        struct stat st;
        int64_t v;
        int r;

        r = record_file_name(id, ".json", file);
        if (r < 0)
                return r;
        r = json_parse_file_at(s->images_fd, file, STORE_JSON_SIZE_MAX, &o);
        if (r < 0)
                return r;

        rec = calloc(1, sizeof *rec);
        if (!rec)
                return -ENOMEM;
        r = dup_string(o, "id", true, &rec->id);
        if (r < 0)
                return r;
        if (!streq(rec->id, id))
                return -EBADMSG;
        r = json_get_string(o, "format", &format);
        if (r < 0)
                return r == -ENOENT ? -EBADMSG : r;
        rec->format = image_format_from_string(format);
        if (rec->format < 0)
                return -EBADMSG;
        r = dup_string(o, "config", true, &rec->config);
        if (r < 0)
                return r == -ENOENT ? -EBADMSG : r;
        r = dup_string(o, "aciManifest", false, &rec->aci_manifest);
        if (r < 0)
                return r;
        if (json_get_int64(o, "size", &v) >= 0 && v >= 0)
                rec->size = (uint64_t) v;
        if (json_get_int64(o, "importTime", &v) >= 0 && v >= 0)
                rec->import_usec = (uint64_t) v;

        r = json_get_array(o, "layers", &layers);
        if (r < 0)
                return r == -ENOENT ? -EBADMSG : r;
        rec->n_layers = json_object_array_length(layers);
        rec->layers = calloc(MAX(rec->n_layers, 1u), sizeof(ImageLayer));
        if (!rec->layers)
                return -ENOMEM;
        for (size_t i = 0; i < rec->n_layers; i++) {
                json_object *l = json_object_array_get_idx(layers, i);

                r = dup_string(l, "digest", true, &rec->layers[i].digest);
                if (r < 0)
                        return r == -ENOENT ? -EBADMSG : r;
                if (!digest_is_valid(rec->layers[i].digest))
                        return -EBADMSG;
                r = dup_string(l, "diffId", false, &rec->layers[i].diff_id);
                if (r < 0)
                        return r;
                if (rec->layers[i].diff_id && !digest_is_valid(rec->layers[i].diff_id))
                        return -EBADMSG;
                if (json_get_int64(l, "uncompressedSize", &v) >= 0 && v >= 0)
                        rec->layers[i].uncompressed_size = (uint64_t) v;
                r = dup_string(l, "mediaType", false, &rec->layers[i].media_type);
                if (r < 0)
                        return r;
                if (json_get_int64(l, "size", &v) >= 0 && v >= 0)
                        rec->layers[i].size = (uint64_t) v;
        }
        if (!digest_is_valid(rec->config) || (rec->aci_manifest && !digest_is_valid(rec->aci_manifest)))
                return -EBADMSG;

        r = record_file_name(id, ".used", file);
        if (r < 0)
                return r;
        rec->last_used_usec = fstatat(s->images_fd, file, &st, 0) >= 0 ?
                (uint64_t) st.st_mtim.tv_sec * 1000000ULL + (uint64_t) st.st_mtim.tv_nsec / 1000 :
                rec->import_usec;

        r = record_file_name(id, ".removed", file);
        if (r < 0)
                return r;
        rec->removed = faccessat(s->images_fd, file, F_OK, AT_SYMLINK_NOFOLLOW) >= 0;

        /* Who signed it, when a signature was verified as it came in. */
        r = record_file_name(id, ".signer", file);
        if (r < 0)
                return r;
        {
                _cleanup_free_ char *signer = NULL;

                r = read_file_or_empty_at(s->images_fd, file, 256, &signer);
                if (r < 0)
                        return r;
                for (char *c = signer; c && *c; c++)
                        if (*c == '\n')
                                *c = 0;
                if (!isempty(signer))
                        rec->signer = TAKE_PTR(signer);
        }

        for (size_t i = 0; names && names[i]; i++)
                if (streq(ids[i], id)) {
                        r = strv_extend(&rec->names, names[i]);
                        if (r < 0)
                                return r;
                }

        *ret = TAKE_PTR(rec);
        return 0;
}

int store_image_load(Store *s, const char *id, ImageRecord **ret) {
        _cleanup_strv_free_ char **names = NULL, **ids = NULL;
        int r;

        r = store_ref_list(s, &names, &ids);
        if (r < 0)
                return r;
        return image_load_with_refs(s, id, names, ids, ret);
}

int store_image_save(Store *s, const ImageRecord *rec) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *layers = NULL;
        char file[DIGEST_STRING_MAX + 16];
        int r;

        if (!o)
                return -ENOMEM;
        r = record_file_name(rec->id, ".json", file);
        if (r < 0)
                return r;
        layers = json_object_new_array();
        if (!layers)
                return -ENOMEM;
        for (size_t i = 0; i < rec->n_layers; i++) {
                json_object *l = json_object_new_object();
                if (!l || json_object_array_add(layers, l) < 0) {
                        json_object_put(l);
                        return -ENOMEM;
                }
                if (json_add_string(l, "digest", rec->layers[i].digest) < 0 ||
                    (rec->layers[i].media_type && json_add_string(l, "mediaType", rec->layers[i].media_type) < 0) ||
                    json_add_int64(l, "size", (int64_t) rec->layers[i].size) < 0 ||
                    (rec->layers[i].diff_id && (json_add_string(l, "diffId", rec->layers[i].diff_id) < 0 ||
                                                json_add_int64(l, "uncompressedSize",
                                                               (int64_t) rec->layers[i].uncompressed_size) < 0)))
                        return -ENOMEM;
        }
        if (json_add_string(o, "id", rec->id) < 0 ||
            json_add_string(o, "format", image_format_to_string(rec->format)) < 0 ||
            json_add_string(o, "config", rec->config) < 0 ||
            (rec->aci_manifest && json_add_string(o, "aciManifest", rec->aci_manifest) < 0) ||
            json_add(o, "layers", json_object_get(layers)) < 0 ||
            json_add_int64(o, "size", (int64_t) rec->size) < 0 ||
            json_add_int64(o, "importTime", (int64_t) (rec->import_usec ?: now_realtime_usec())) < 0)
                return -ENOMEM;

        r = json_write_file_atomic_at(s->images_fd, file, o, JSON_C_TO_STRING_PRETTY|JSON_C_TO_STRING_SPACED|
                                      JSON_C_TO_STRING_NOSLASHESCAPE, 0644);
        if (r < 0)
                return r;
        /* Imported again: no longer removed. */
        r = record_file_name(rec->id, ".removed", file);
        if (r < 0)
                return r;
        if (unlinkat(s->images_fd, file, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* Creates (or opens) the record's file with this suffix. */
static int record_file_create(Store *s, const char *id, const char *suffix, int *ret_fd) {
        char file[DIGEST_STRING_MAX + 16];
        int fd, r;

        r = record_file_name(id, suffix, file);
        if (r < 0)
                return r;
        fd = openat(s->images_fd, file, O_WRONLY|O_CREAT|O_CLOEXEC|O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int store_image_touch(Store *s, const char *id) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = record_file_create(s, id, ".used", &fd);
        if (r < 0)
                return r;
        return futimens(fd, NULL) < 0 ? -errno : 0;
}

static int compare_import_time(const void *a, const void *b) {
        const ImageRecord *x = *(ImageRecord *const *) a, *y = *(ImageRecord *const *) b;

        if (x->import_usec != y->import_usec)
                return x->import_usec < y->import_usec ? -1 : 1;
        return strcmp(x->id, y->id);
}

/* IDs of every image record, from the file names. */
static int image_ids(Store *s, char ***ret) {
        _cleanup_strv_free_ char **ids = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = opendir_at(s->images_fd, ".", &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (de = readdir(d)); ) {
                const char *hex = startswith(de->d_name, "sha256-"), *e;
                _cleanup_free_ char *id = NULL;

                if (!hex || !(e = endswith(hex, ".json")) || e - hex != DIGEST_HEX_LEN)
                        continue;
                if (asprintf(&id, DIGEST_PREFIX "%.*s", DIGEST_HEX_LEN, hex) < 0)
                        return -ENOMEM;
                if (!digest_is_valid(id))
                        continue;
                r = strv_push(&ids, id);
                if (r < 0)
                        return r;
                TAKE_PTR(id);
        }
        if (!ids) {
                ids = calloc(1, sizeof(char *));
                if (!ids)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(ids);
        return 0;
}

int store_image_list(Store *s, ImageRecord ***ret, size_t *ret_n) {
        _cleanup_strv_free_ char **ids = NULL, **ref_names = NULL, **ref_ids = NULL;
        ImageRecord **l;
        size_t n = 0;
        int r;

        r = image_ids(s, &ids);
        if (r < 0)
                return r;
        r = store_ref_list(s, &ref_names, &ref_ids);
        if (r < 0)
                return r;
        l = calloc(strv_length(ids) + 1, sizeof(ImageRecord *));
        if (!l)
                return -ENOMEM;
        STRV_FOREACH(id, ids) {
                r = image_load_with_refs(s, *id, ref_names, ref_ids, &l[n]);
                if (r == -ENOENT)       /* removed meanwhile */
                        continue;
                if (r < 0) {
                        image_record_array_free(l, n);
                        return r;
                }
                n++;
        }
        qsort(l, n, sizeof(ImageRecord *), compare_import_time);
        *ret = l;
        *ret_n = n;
        return 0;
}

int store_image_resolve(Store *s, const char *what, char **ret_id) {
        _cleanup_strv_free_ char **ids = NULL;
        _cleanup_free_ char *found = NULL;
        const char *prefix;
        size_t len;
        int r;

        if (isempty(what))
                return -EINVAL;

        if (digest_is_valid(what)) {
                r = record_exists(s, what);
                if (r < 0)
                        return r;
                *ret_id = strdup(what);
                return *ret_id ? 0 : -ENOMEM;
        }

        if (image_name_is_valid(what)) {
                r = store_ref_get(s, what, ret_id);
                if (r != -ENOENT)
                        return r;
        }

        /* A unique prefix of the hex part, at least 4 digits, with or without "sha256:". */
        prefix = startswith(what, DIGEST_PREFIX) ?: what;
        len = strlen(prefix);
        if (len < 4 || len > DIGEST_HEX_LEN || strspn(prefix, "0123456789abcdef") != len)
                return -ENOENT;
        r = image_ids(s, &ids);
        if (r < 0)
                return r;
        STRV_FOREACH(id, ids)
                if (strneq(digest_hex(*id), prefix, len)) {
                        if (found)
                                return -ENOTUNIQ;
                        found = strdup(*id);
                        if (!found)
                                return -ENOMEM;
                }
        if (!found)
                return -ENOENT;
        *ret_id = TAKE_PTR(found);
        return 0;
}

/* The refs that point at id. */
static int refs_remove(Store *s, const char *id) {
        _cleanup_strv_free_ char **names = NULL, **ids = NULL;
        int r;

        r = store_ref_list(s, &names, &ids);
        if (r < 0)
                return r;
        for (size_t i = 0; names[i]; i++) {
                _cleanup_free_ char *f = NULL;

                if (!streq(ids[i], id))
                        continue;
                r = ref_file_name(names[i], &f);
                if (r < 0)
                        return r;
                if (unlinkat(s->refs_fd, f, 0) < 0 && errno != ENOENT)
                        return -errno;
        }
        return 0;
}

int store_image_remove(Store *s, const char *id) {
        char file[DIGEST_STRING_MAX + 16];
        int r;

        r = record_file_name(id, ".json", file);
        if (r < 0)
                return r;
        if (faccessat(s->images_fd, file, F_OK, 0) < 0)
                return -errno;

        /* Refs first: a ref to a missing record would be a dangling name. */
        r = refs_remove(s, id);
        if (r < 0)
                return r;
        if (unlinkat(s->images_fd, file, 0) < 0)
                return -errno;
        for (const char *const *suffix = (const char *const[]) { ".used", ".removed", ".asc", ".signer", NULL }; *suffix; suffix++) {
                r = record_file_name(id, *suffix, file);
                if (r < 0)
                        return r;
                (void) unlinkat(s->images_fd, file, 0);
        }
        return 0;
}

int store_image_set_signature(Store *s, const char *id, int dir_fd, const char *name) {
        char file[DIGEST_STRING_MAX + 16];
        int r;

        r = record_file_name(id, ".asc", file);
        if (r < 0)
                return r;
        if (fchmodat(dir_fd, name, 0444, 0) < 0)
                return -errno;
        return renameat(dir_fd, name, s->images_fd, file) < 0 ? -errno : 0;
}

int store_image_set_signer(Store *s, const char *id, const char *signer) {
        _cleanup_free_ char *text = NULL;
        char file[DIGEST_STRING_MAX + 16];
        int r;

        r = record_file_name(id, ".signer", file);
        if (r < 0)
                return r;
        if (asprintf(&text, "%s\n", signer) < 0)
                return -ENOMEM;
        return write_file_atomic_at(s->images_fd, file, text, strlen(text), 0644);
}

int store_image_mark_removed(Store *s, const char *id) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = record_exists(s, id);
        if (r < 0)
                return r;
        /* The mark first: a crash in between leaves a removed image with names, never one gc forgets. */
        r = record_file_create(s, id, ".removed", &fd);
        if (r < 0)
                return r;
        return refs_remove(s, id);
}
