/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>

#include "fs-util.h"
#include "image-ref.h"
#include "import.h"
#include "log.h"
#include "pull-progress.h"
#include "rocket-store.h"
#include "string-util.h"
#include "trust-policy.h"

int rocket_store_open(RocketContext *ctx, StoreFlags flags, Store **ret) {
        int r;

        r = store_open(ctx->dir, flags, ret);
        if (r == -ENOENT && !(flags & STORE_CREATE))
                return log_debug_errno(r, "No image store at '%s/store' yet.", ctx->dir);
        if (r == -EACCES || r == -EPERM)
                return log_error_errno(r, "Cannot open the image store at '%s/store': %m "
                                       "(run as root or as a member of group 'rocket').", ctx->dir);
        if (r == -EWOULDBLOCK)
                return log_error_errno(r, "The image store at '%s/store' is busy.", ctx->dir);
        if (r < 0)
                return log_error_errno(r, "Failed to open the image store at '%s/store': %m", ctx->dir);
        return 0;
}

int rocket_image_resolve(Store *s, const char *what, char **ret_id) {
        int r;

        r = store_image_resolve(s, what, ret_id);
        if (r == -ENOENT || r == -EINVAL)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT),
                                       "No image is named '%s' or has an ID starting with it.", what);
        if (r == -ENOTUNIQ)
                return log_error_errno(r, "'%s' matches more than one image ID; give more of it.", what);
        if (r < 0)
                return log_error_errno(r, "Failed to look up image '%s': %m", what);
        return 0;
}

static int log_import_error(const char *image, int r, const char *detail) {
        switch (r) {
        case -EBADMSG:
                if (detail)
                        return log_error_errno(r, "Refusing image '%s': bad or hostile entry '%s'.", image, detail);
                return log_error_errno(r, "Refusing image '%s': its data is corrupt.", image);
        case -STORE_ERR_ARCHIVE_DAMAGED:
                return log_error_errno(r, "Refusing image '%s': the archive is truncated or damaged%s%s%s.", image,
                                       detail ? " (in '" : "", strempty(detail), detail ? "')" : "");
        case -STORE_ERR_DIGEST_MISMATCH:
                return log_error_errno(r, "Refusing image '%s': blob '%s' does not match its digest.", image,
                                       strempty(detail));
        case -ENOENT:
                if (detail)
                        return log_error_errno(r, "Cannot import '%s': '%s' is missing.", image, detail);
                return log_error_errno(r, "Cannot import '%s': %m", image);
        case -ENOTUNIQ:
                return log_error_errno(r, "'%s' holds several images (%s); name one with :TAG.", image,
                                       strempty(detail));
        case -EMEDIUMTYPE:
                return log_error_errno(r, "'%s' is not an image rocket can read%s%s%s.", image,
                                       detail ? " (missing or unsupported '" : "", strempty(detail),
                                       detail ? "')" : "");
        case -ENOPKG:
                return log_error_errno(r, "Cannot import '%s': its dependency '%s' is not in the store; fetch it first.",
                                       image, strempty(detail));
        case -EACCES:
        case -EPERM:
                return log_error_errno(r, "Cannot import '%s': %m (run as root or as a member of group 'rocket').",
                                       image);
        case -EFBIG:
        case -E2BIG:
                return log_error_errno(r, "Refusing image '%s': %s%s%stoo large.", image,
                                       detail ? "'" : "", strempty(detail), detail ? "' is " : "");
        default:
                if (detail)
                        return log_error_errno(r, "Failed to import '%s' ('%s'): %m", image, detail);
                return log_error_errno(r, "Failed to import '%s': %m", image);
        }
}

void image_fetch_args_done(ImageFetchArgs *a) {
        free(a->os);
        free(a->arch);
        free(a->variant);
        free(a->signature);
}

FetchInsecure fetch_insecure_of(InsecureOption o) {
        return (o & INSECURE_TLS ? FETCH_INSECURE_TLS : 0) | (o & INSECURE_HTTP ? FETCH_INSECURE_HTTP : 0) |
               (o & INSECURE_IMAGE ? FETCH_INSECURE_IMAGE : 0);
}

int image_fetch_parse_platform(const char *where, const char *s, ImageFetchArgs *a) {
        _cleanup_strv_free_ char **parts = NULL;
        size_t n;

        if (strv_split(s, "/", &parts) < 0)
                return log_oom();
        n = strv_length(parts);
        if (n < 2 || n > 3)
                return log_usage("%s: invalid platform '%s' (OS/ARCH[/VARIANT], e.g. linux/arm64).", where, s);
        STRV_FOREACH(p, parts)
                if (!name_is_valid(*p))
                        return log_usage("%s: invalid platform '%s' (OS/ARCH[/VARIANT], e.g. linux/arm64).", where, s);
        free_and_replace(a->os, parts[0]);
        free_and_replace(a->arch, parts[1]);
        free(a->variant);
        a->variant = n == 3 ? TAKE_PTR(parts[2]) : NULL;
        return 0;
}

int image_fetch_parse_policy(const char *where, const char *s, PullPolicy *ret) {
        PullPolicy p = pull_policy_from_string(s);

        if (p < 0)
                return log_usage("%s: invalid pull policy '%s' (never, new, update).", where, s);
        *ret = p;
        return 0;
}

static int pull(Store *s, const char *image, const ImageRef *ref, const ImageFetchArgs *fa, char *const *names,
                char **ret_id) {
        _cleanup_(pull_progress_freep) PullProgress *progress = NULL;
        _cleanup_free_ char *detail = NULL;
        FetchOptions o = {
                .policy = fa ? fa->policy : PULL_NEW,
                .insecure = fa ? fetch_insecure_of(fa->insecure) : 0,
                .os = fa ? fa->os : NULL,
                .arch = fa ? fa->arch : NULL,
                .variant = fa ? fa->variant : NULL,
        };
        int r;

        if (fa && fa->policy == PULL_NEVER && ref->type == IMAGE_REF_HTTPS)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Cannot fetch '%s': the pull policy is 'never'.", image);
        if (fa && !fa->quiet) {
                progress = pull_progress_new(ref->name ?: image);
                if (!progress)
                        return log_oom();
                o.progress = pull_progress_update;
                o.progress_userdata = progress;
        }
        r = ref->type == IMAGE_REF_DOCKER ? registry_pull(s, ref, &o, names, ret_id, &detail) :
                                            aci_pull(s, ref, &o, names, ret_id, &detail);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0 && (r == -EPERM || r == -EACCES) && !detail)
                return log_error_errno(r, "Cannot pull '%s': %m (run as root or as a member of group 'rocket').",
                                       image);
        if (r < 0 && detail)
                return log_error_errno(r, "Cannot pull '%s': %s.", image, detail);
        if (r < 0)
                return log_error_errno(r, "Cannot pull '%s': %m", image);
        log_debug("Pulled '%s' as %s.", image, *ret_id);
        return 0;
}

int rocket_image_get(RocketContext *ctx, Store *s, const char *image, const ImageFetchArgs *fa, char *const *names,
                     char **ret_id) {
        _cleanup_(image_ref_freep) ImageRef *ref = NULL;
        _cleanup_free_ char *detail = NULL, *signer = NULL;
        int r;

        r = image_ref_parse(image, &ref);
        if (r == -EPROTONOSUPPORT)
                return log_error_errno(r, "Cannot fetch '%s': rocket reads docker://, https://, oci:, "
                                       "oci-archive:, docker-archive:, ACI files and images in its store.", image);
        if (r < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid image reference '%s'.", image);

        if (fa && fa->signature && ref->type != IMAGE_REF_ACI)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "--signature= checks ACI files; '%s' is not one.",
                                       image);
        if (ref->type == IMAGE_REF_STORE) {
                _cleanup_(image_ref_freep) ImageRef *discovery = NULL;

                /* Not in the store: an appc name is discovered, as rkt did. */
                r = store_image_resolve(s, ref->name, ret_id);
                if (r >= 0)
                        return 0;
                if (r != -ENOENT || (fa && fa->policy == PULL_NEVER) || image_ref_discovery(ref->name, &discovery) < 0)
                        return rocket_image_resolve(s, ref->name, ret_id);
                return pull(s, image, discovery, fa, names, ret_id);
        }
        if (IN_SET(ref->type, IMAGE_REF_DOCKER, IMAGE_REF_HTTPS))
                return pull(s, image, ref, fa, names, ret_id);

        if (IN_SET(ref->type, IMAGE_REF_OCI_DIR, IMAGE_REF_OCI_ARCHIVE, IMAGE_REF_DOCKER_ARCHIVE) &&
            !(fa && fa->insecure & INSECURE_IMAGE)) {
                PolicyDirs dirs = policy_dirs_default();

                r = policy_check_local(&dirs, image_ref_type_to_string(ref->type), ref->path, &detail);
                if (r == -ENOENT)
                        return log_error_errno(r, "Cannot import '%s': %m", image);
                if (r < 0)
                        return log_error_errno(r, "Refusing image '%s': %s.", image, strna(detail));
        }
        if (fa && fa->signature) {
                _cleanup_free_ char *sig = NULL;
                _cleanup_close_ int fd = -EBADF;
                size_t size;

                r = read_full_file_at(AT_FDCWD, fa->signature, 64 * 1024, &sig, &size);
                if (r < 0)
                        return log_error_errno(r, "Cannot read signature '%s': %m", fa->signature);
                fd = open(ref->path, O_RDONLY|O_CLOEXEC);
                if (fd < 0)
                        return log_error_errno(errno, "Cannot import '%s': %m", image);
                r = aci_verify(fd, NULL, sig, size, &signer, &detail);
                if (r < 0)
                        return log_error_errno(r, "Refusing image '%s': %s.", image, strna(detail));
        }
        r = image_import(s, ref, names, ret_id, &detail);
        if (r < 0)
                return log_import_error(image, r, detail);
        if (signer) {
                r = store_image_set_signer(s, *ret_id, signer);
                if (r < 0)
                        return log_error_errno(r, "Failed to record who signed %s: %m", *ret_id);
        }
        log_debug("Imported '%s' as %s.", image, *ret_id);
        return 0;
}
