/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket_config_load(): paths.d and stage1.d of the vendor's and the administrator's directories, a later
 * directory's settings over an earlier one's, one default stage1 choice, and bad files refused. */
#define TESTS_MAIN
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "rocket-config.h"
#include "tests.h"

static char base[] = "/tmp/test-rocket-config.XXXXXX";

static void put(const char *dir, const char *subdir, const char *name, const char *content) {
        char p[512];
        FILE *f;

        snprintf(p, sizeof p, "%s/%s/%s", base, dir, subdir);
        ASSERT_OK(mkdir_p_at(AT_FDCWD, p, 0755));
        snprintf(p, sizeof p, "%s/%s/%s/%s", base, dir, subdir, name);
        f = fopen(p, "we");
        ASSERT_NOT_NULL(f);
        fputs(content, f);
        fclose(f);
}

static int load(RocketConfig *c) {
        char vendor[256], local[256];
        const char *dirs[] = { vendor, local, NULL };

        snprintf(vendor, sizeof vendor, "%s/vendor", base);
        snprintf(local, sizeof local, "%s/local", base);
        return rocket_config_load(dirs, c);
}

static void reset(void) {
        char p[256];

        snprintf(p, sizeof p, "%s/vendor", base);
        ASSERT_OK(rm_rf_at(AT_FDCWD, p));
        snprintf(p, sizeof p, "%s/local", base);
        ASSERT_OK(rm_rf_at(AT_FDCWD, p));
}

TEST(config) {
        RocketConfig c = {};

        ASSERT_NOT_NULL(mkdtemp(base));
        /* Nothing there: nothing set. */
        ASSERT_OK(load(&c));
        ASSERT_TRUE(!c.data && !c.stage1_images && !c.stage1_name && !c.stage1_location);

        put("vendor", "paths.d", "paths.json",
            "{\"rktKind\": \"paths\", \"rktVersion\": \"v1\", \"data\": \"/vendor/data\", \"stage1-images\": \"/vendor/s1\"}");
        put("vendor", "stage1.d", "s.json", "{\"rktKind\": \"stage1\", \"rktVersion\": \"v1\", \"location\": \"/vendor/stage1\"}");
        put("local", "paths.d", "data.json", "{\"rktKind\": \"paths\", \"rktVersion\": \"v1\", \"data\": \"/srv/rocket\"}");
        put("local", "stage1.d", "fly.json",
            "{\"rktKind\": \"stage1\", \"rktVersion\": \"v1\", \"name\": \"coreos.com/rkt/stage1-fly\", \"version\": \"1.30.0\"}");
        put("local", "stage1.d", "README", "not JSON, not read");
        ASSERT_OK(load(&c));
        ASSERT_STREQ(c.data, "/srv/rocket");            /* the administrator's */
        ASSERT_STREQ(c.stage1_images, "/vendor/s1");    /* the vendor's, not set again */
        ASSERT_STREQ(c.stage1_name, "coreos.com/rkt/stage1-fly");      /* named later: the earlier location goes */
        ASSERT_STREQ(c.stage1_version, "1.30.0");
        ASSERT_NULL(c.stage1_location);
        rocket_config_done(&c);

        /* The same setting twice in one directory. */
        put("local", "paths.d", "more.json", "{\"rktKind\": \"paths\", \"rktVersion\": \"v1\", \"data\": \"/elsewhere\"}");
        ASSERT_ERROR(load(&c), EEXIST);
        reset();
        put("local", "paths.d", "v2.json", "{\"rktKind\": \"paths\", \"rktVersion\": \"v2\", \"data\": \"/x\"}");
        ASSERT_ERROR(load(&c), EBADMSG);
        reset();
        put("local", "paths.d", "k.json", "{\"rktKind\": \"paths\", \"rktVersion\": \"v1\", \"name\": \"fly\"}");
        ASSERT_ERROR(load(&c), EBADMSG);        /* a key of another kind */
        reset();
        put("local", "paths.d", "rel.json", "{\"rktKind\": \"paths\", \"rktVersion\": \"v1\", \"data\": \"relative\"}");
        ASSERT_ERROR(load(&c), EINVAL);
        reset();
        put("local", "stage1.d", "bad.json", "{\"rktKind\": \"stage1\", \"rktVersion\": \"v1\", \"name\": \"no good!\"}");
        ASSERT_ERROR(load(&c), EINVAL);
        reset();
        put("local", "stage1.d", "broken.json", "{\"rktKind\": ");
        ASSERT_TRUE(load(&c) < 0);
        ASSERT_NULL(c.data);
        ASSERT_OK(rm_rf_at(AT_FDCWD, base));
}
