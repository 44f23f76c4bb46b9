/**
 * The service interface between the api and its implementation: {@link io.twinline.api.spi.TwinlineProvider},
 * found with {@link java.util.ServiceLoader}, and the specs the builders hand it. Exported only to
 * {@code io.twinline.host}; embedders never use it.
 */
package io.twinline.api.spi;
