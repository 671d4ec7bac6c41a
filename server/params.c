/*
 * params.c - typed request parameters.  Each getter validates once (UTF-8
 * and NFC through libtm, language tags canonicalised, integers bounded)
 * and on failure leaves the error reply in the contract's shape, so a
 * handler only writes `if (!param_...(...)) goto out;`.
 */
#include "server.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *param_raw(struct request *rq, const char *name, size_t *len) {
  const char *v = NULL;
  size_t n = 0;

  if (MHD_lookup_connection_value_n(rq->conn, MHD_GET_ARGUMENT_KIND, name,
                                    strlen(name), &v, &n) == MHD_YES) {
    /* "?flag" without "=" has no value: treat it as empty. */
    *len = v ? n : 0;
    return v ? v : "";
  }
  for (size_t i = 0; i < rq->nform; i++)
    if (strcmp(rq->form[i].name, name) == 0) {
      *len = rq->form[i].len;
      return rq->form[i].value;
    }
  *len = 0;
  return NULL;
}

bool text_nfc(struct request *rq, const char *what, const char *s, size_t len,
              size_t max, char **out) {
  size_t bad = 0;
  tm_status st;

  *out = NULL;
  if (len > max) {
    reply_error(rq, 414, "query_too_long", "%s is longer than %zu bytes", what,
                max);
    return false;
  }
  st = tm_text_nfc(tm_db_text(rq->db), s, len, out, &bad);
  if (st == TM_UTF8) {
    reply_error(rq, 400, "invalid_utf8", "%s: invalid UTF-8 at byte %zu", what,
                bad);
    return false;
  }
  if (st != TM_OK) {
    reply_tm(rq, NULL, st);
    return false;
  }
  return true;
}

bool param_text(struct request *rq, const char *name, bool required, size_t max,
                char **out) {
  size_t len;
  const char *v = param_raw(rq, name, &len);

  *out = NULL;
  if (!v || len == 0) {
    if (!required)
      return true;
    reply_error(rq, 400, "missing_parameter", "%s is required", name);
    return false;
  }
  return text_nfc(rq, name, v, len, max, out);
}

bool lang_canonical(struct request *rq, const char *what, const char *s,
                    char out[TM_LANG_MAX]) {
  if (tm_lang_canonical(s, out) != TM_OK) {
    /* Quote only what is safe to quote: tags are short ASCII. */
    bool plain = strlen(s) < TM_LANG_MAX;
    for (const char *p = s; plain && *p; p++)
      plain = isalnum((unsigned char)*p) || *p == '-' || *p == '_';
    if (plain)
      reply_error(rq, 400, "invalid_language",
                  "%s: \"%s\" is not a BCP-47 language tag", what, s);
    else
      reply_error(rq, 400, "invalid_language",
                  "%s is not a BCP-47 language tag", what);
    return false;
  }
  return true;
}

bool param_lang(struct request *rq, const char *name, bool required,
                char out[TM_LANG_MAX]) {
  size_t len;
  const char *v = param_raw(rq, name, &len);

  out[0] = '\0';
  if (!v || len == 0) {
    if (!required)
      return true;
    reply_error(rq, 400, "missing_parameter", "%s is required", name);
    return false;
  }
  return lang_canonical(rq, name, v, out);
}

/* Adds the tags of the comma list V to OUT. */
static bool add_langs(struct request *rq, const char *name, const char *v,
                      struct langs *out) {
  while (*v) {
    char tag[TM_LANG_MAX];
    size_t n = strcspn(v, ",");
    if (n >= TM_LANG_MAX) {
      reply_error(rq, 400, "invalid_language", "%s: a language tag is too long",
                  name);
      return false;
    }
    if (n > 0) {
      memcpy(tag, v, n);
      tag[n] = '\0';
      if (out->n == SRV_MAX_LANGS) {
        reply_error(rq, 400, "invalid_parameter", "%s: at most %d languages",
                    name, SRV_MAX_LANGS);
        return false;
      }
      if (!lang_canonical(rq, name, tag, out->tag[out->n]))
        return false;
      out->v[out->n] = out->tag[out->n];
      out->n++;
    }
    v += n;
    if (*v == ',')
      v++;
  }
  return true;
}

struct langs_walk {
  struct request *rq;
  const char *name;
  struct langs *out;
  bool ok;
};

static enum MHD_Result langs_each(void *cls, enum MHD_ValueKind kind,
                                  const char *key, size_t key_size,
                                  const char *value, size_t value_size) {
  struct langs_walk *w = cls;

  (void)kind;
  if (!w->ok || !value || key_size != strlen(w->name) ||
      memcmp(key, w->name, key_size) != 0)
    return MHD_YES;
  if (strlen(value) != value_size) {
    reply_error(w->rq, 400, "invalid_language",
                "%s is not a BCP-47 language tag", w->name);
    w->ok = false;
    return MHD_NO;
  }
  w->ok = add_langs(w->rq, w->name, value, w->out);
  return w->ok ? MHD_YES : MHD_NO;
}

bool param_langs(struct request *rq, const char *name, struct langs *out) {
  struct langs_walk w = {rq, name, out, true};

  out->n = 0;
  MHD_get_connection_values_n(rq->conn, MHD_GET_ARGUMENT_KIND, langs_each, &w);
  return w.ok;
}

bool param_int(struct request *rq, const char *name, long def, long min,
               long max, bool clamp, long *out) {
  size_t len;
  const char *v = param_raw(rq, name, &len);
  char *end;
  long n;

  *out = def;
  if (!v || len == 0)
    return true;
  errno = 0;
  n = strtol(v, &end, 10);
  if (errno == ERANGE && n > 0 && clamp) {
    *out = max;
    return true;
  }
  if (errno || end == v || *end || (size_t)(end - v) != len) {
    reply_error(rq, 400, "invalid_parameter", "%s must be an integer", name);
    return false;
  }
  if (n < min || (n > max && !clamp)) {
    reply_error(rq, 400, "invalid_parameter", "%s must be from %ld to %ld",
                name, min, max);
    return false;
  }
  *out = n > max ? max : n;
  return true;
}

bool param_flag(struct request *rq, const char *name, bool def, bool *out) {
  static const char *const yes[] = {"1", "true", "yes", "on"};
  static const char *const no[] = {"0", "false", "no", "off"};
  size_t len;
  const char *v = param_raw(rq, name, &len);

  *out = def;
  if (!v)
    return true;
  if (len == 0) {
    *out = true; /* "?exact_lang" alone */
    return true;
  }
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(v, yes[i]) == 0) {
      *out = true;
      return true;
    }
    if (strcasecmp(v, no[i]) == 0) {
      *out = false;
      return true;
    }
  }
  reply_error(rq, 400, "invalid_parameter", "%s must be 1 or 0", name);
  return false;
}

bool param_approved(struct request *rq, bool *approved_only) {
  size_t len;
  const char *v = param_raw(rq, "status", &len);

  *approved_only = false;
  if (!v || len == 0 || strcmp(v, "any") == 0)
    return true;
  if (strcmp(v, "approved") == 0) {
    *approved_only = true;
    return true;
  }
  reply_error(rq, 400, "invalid_parameter", "status must be approved or any");
  return false;
}

bool param_name(struct request *rq, const char *name, size_t max,
                const char **out) {
  size_t len;
  const char *v = param_raw(rq, name, &len);

  *out = NULL;
  if (!v || len == 0)
    return true;
  if (len > max || strlen(v) != len) {
    reply_error(rq, 400, "invalid_parameter", "%s is too long or malformed",
                name);
    return false;
  }
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f) {
      reply_error(rq, 400, "invalid_parameter", "%s is malformed", name);
      return false;
    }
  *out = v;
  return true;
}
