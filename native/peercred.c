/*
 * peercred: the credentials of the process at the other end of a connected Unix domain socket.
 * Node exposes no SO_PEERCRED / getpeereid(), and the control socket's access decisions need the
 * caller's uid from the kernel, not from anything the caller says about itself.
 *
 *   peerCredentials(fd: number) -> { pid: number | null, uid: number, gid: number }
 *   throws Error with .code = errno name-ish on failure
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#include <node_api.h>

static napi_value throw_errno(napi_env env, int err) {
  napi_throw_error(env, "ERR_PEERCRED", strerror(err));
  return NULL;
}

static napi_value set_number(napi_env env, napi_value obj, const char *key, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  napi_set_named_property(env, obj, key, v);
  return obj;
}

static napi_value peer_credentials(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "peerCredentials(fd) needs a file descriptor");
    return NULL;
  }
  napi_value result, null_value;
  napi_create_object(env, &result);
  napi_get_null(env, &null_value);
#if defined(SO_PEERCRED) && defined(__linux__)
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return throw_errno(env, errno);
  set_number(env, result, "pid", cred.pid);
  set_number(env, result, "uid", cred.uid);
  set_number(env, result, "gid", cred.gid);
#else
  uid_t uid;
  gid_t gid;
  if (getpeereid(fd, &uid, &gid) != 0) return throw_errno(env, errno);
  napi_set_named_property(env, result, "pid", null_value);
  set_number(env, result, "uid", uid);
  set_number(env, result, "gid", gid);
#endif
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  napi_create_function(env, "peerCredentials", NAPI_AUTO_LENGTH, peer_credentials, NULL, &fn);
  napi_set_named_property(env, exports, "peerCredentials", fn);
  return exports;
}
