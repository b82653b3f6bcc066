import { ACCESS_LOG_FIELDS } from '../mesh/contract.js';

/**
 * The JSON access log (`accessLog: json`): one line per request with the same fields at every
 * hop, Envoy's and nginx's, so that `podvoy logs --request` can follow a request across them.
 * `time` is when an Envoy received the request (to the microsecond) and when nginx answered it
 * (nginx knows no earlier moment, and only to the millisecond); `duration` is in milliseconds.
 */

/**
 * Envoy's json_format. A value that is one command operator keeps its type (status and duration
 * are numbers). https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#format-dictionaries
 */
export const ENVOY_JSON_LOG_FORMAT: Readonly<Record<(typeof ACCESS_LOG_FIELDS)[number], string>> = {
  time: '%START_TIME(%Y-%m-%dT%H:%M:%S.%6fZ)%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  status: '%RESPONSE_CODE%',
  duration: '%DURATION%',
  upstream: '%UPSTREAM_HOST%',
  request_id: '%REQ(X-REQUEST-ID)%',
};

/** The text of Envoy's typed `log_format` with the JSON fields. */
export function envoyJsonLogFormat(): object {
  return { json_format: ENVOY_JSON_LOG_FORMAT };
}

/**
 * nginx's log_format lines (escape=json) and the maps they need: nginx has no arithmetic, so
 * the seconds of `$request_time` become milliseconds by moving the decimal point, and the
 * milliseconds of `$msec` are appended to the UTC time (containers run in UTC).
 */
export const NGINX_JSON_LOG = {
  maps: [
    'map $request_time $podvoy_duration_ms { "~^0\\.0*(?<ms>[0-9]+)$" $ms; "~^(?<s>[0-9]+)\\.(?<ms>[0-9]{3})$" $s$ms; default 0; }',
    'map $msec $podvoy_msec { "~\\.(?<ms>[0-9]{3})$" $ms; default 000; }',
    'map $time_iso8601 $podvoy_time { "~^(?<t>.*)\\+00:00$" $t; default $time_iso8601; }',
  ],
  format:
    'log_format podvoy_json escape=json \'{"time":"$podvoy_time.${podvoy_msec}Z","method":"$request_method","path":"$request_uri",' +
    '"status":$status,"duration":$podvoy_duration_ms,"upstream":"$upstream_addr","request_id":"$http_x_request_id"}\';',
} as const;
