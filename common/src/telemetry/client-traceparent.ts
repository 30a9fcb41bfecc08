/**
 * What api-service makes of the trace context a client sends (`traceparent`), set by CLIENT_TRACEPARENT:
 * - `parent` (the default): the server span is the child of the client's span. The request joins
 *   the client's trace, and the client's sampled flag decides whether it is recorded (the SDK's
 *   default sampler follows the parent). Right when the clients are your own traced services.
 * - `link`: the server span starts a new trace and links to the client's span. The client picks
 *   neither the trace id nor the sampling: the new trace is sampled like any trace the API starts
 *   (OTEL_TRACES_SAMPLER's root sampler). Right for a public API, whose clients are not yours.
 */
export const CLIENT_TRACEPARENT_SETTINGS = ['parent', 'link'] as const;
