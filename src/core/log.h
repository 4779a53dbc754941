/*
 * log — one line per event on stderr: "level component: message key=value".
 * Used by every module; no secrets may be passed to it (callers redact first).
 */
#ifndef AGENTCAST_CORE_LOG_H
#define AGENTCAST_CORE_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Messages above this level are dropped. Default LOG_INFO; -v sets LOG_DEBUG. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* true: lines are JSON objects {"level":…,"component":…,"msg":…} (--log-json). */
void log_set_json(int json);

/* component is a short module name ("rtmp", "x264", "pipeline"). Thread-safe. */
void log_msg(enum log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, const char *component, const char *fmt, va_list ap);

#define log_error(comp, ...) log_msg(LOG_ERROR, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_msg(LOG_WARN, comp, __VA_ARGS__)
#define log_info(comp, ...) log_msg(LOG_INFO, comp, __VA_ARGS__)
#define log_debug(comp, ...) log_msg(LOG_DEBUG, comp, __VA_ARGS__)

#endif
