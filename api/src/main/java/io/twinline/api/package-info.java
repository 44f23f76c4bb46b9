/**
 * Request/response sessions over two TCP connections, one per direction, that recover from the failure of either.
 *
 * <p>{@link io.twinline.api.Twinline} returns the builders: a {@link io.twinline.api.ServerBuilder} starts a
 * {@link io.twinline.api.TwinlineServer}, a {@link io.twinline.api.ClientBuilder} connects a
 * {@link io.twinline.api.TwinlineClient}. Each holds {@link io.twinline.api.Session}s, on which either end calls
 * the other's {@link io.twinline.api.Handler}s by route; a route is a name of 1 to 255 bytes in UTF-8.
 * {@link io.twinline.api.RecoveryPolicy} sets how failures are detected and recovered, and
 * {@link io.twinline.api.Limits} bounds memory and waits; both are records validated when built. Each way a call
 * can end has its own unchecked exception, a subclass of {@link io.twinline.api.TwinlineException}.
 *
 * <p>Servers, clients and sessions are thread-safe; the builders are not; the records are immutable. A bad
 * argument is refused at once with the exception its method's {@code @throws} names; an
 * {@code IllegalArgumentException}'s message names the argument and shows its value.
 */
package io.twinline.api;
