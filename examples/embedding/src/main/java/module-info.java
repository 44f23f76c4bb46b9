/**
 * An application that embeds twinline: it requires the api module only. The implementation
 * ({@code io.twinline.host}) is on the module path and found by the api's {@link java.util.ServiceLoader}.
 */
module io.twinline.examples.embedding {
    requires io.twinline.api;
}
