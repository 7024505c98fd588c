/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "image-ref.h"
#include "import.h"
#include "log.h"
#include "rocket-store.h"
#include "string-util.h"

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

int rocket_image_get(RocketContext *ctx, Store *s, const char *image, char *const *names, char **ret_id) {
        _cleanup_(image_ref_freep) ImageRef *ref = NULL;
        _cleanup_free_ char *detail = NULL;
        int r;

        r = image_ref_parse(image, &ref);
        if (r == -EPROTONOSUPPORT)
                return log_error_errno(r, "Cannot fetch '%s': rocket reads oci:, oci-archive:, docker-archive:, "
                                       "ACI files and images in its store.", image);
        if (r < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid image reference '%s'.", image);

        if (ref->type == IMAGE_REF_STORE)
                return rocket_image_resolve(s, ref->name, ret_id);

        r = image_import(s, ref, names, ret_id, &detail);
        if (r < 0)
                return log_import_error(image, r, detail);
        log_debug("Imported '%s' as %s.", image, *ret_id);
        return 0;
}
