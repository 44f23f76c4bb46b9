package io.twinline.host;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The status page as a file: found where {@code StatusEndpoint} looks for it, self-contained, and carrying the hooks
 * {@code faults/PageCheck.java} reads. That it works in a browser is {@code faults/page.sh}'s check.
 */
class StatusPageTest {

    private static String page() throws IOException {
        try (InputStream in = StatusEndpoint.class.getResourceAsStream("status-page.html")) {
            assertNotNull(in, "status-page.html is not in the host module's package io.twinline.host");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void pageLoadsNothingFromElsewhere() throws IOException {
        String page = page();
        for (String pattern : List.of("<script[^>]*\\bsrc\\s*=", "<link\\b", "<iframe\\b", "<img\\b", "@import",
                "url\\(", "\\bimportScripts\\b", "\\bhref\\s*=\\s*\"(?:https?:)?//")) {
            Matcher m = Pattern.compile(pattern, Pattern.CASE_INSENSITIVE).matcher(page);
            assertFalse(m.find(), () -> "the page must be self-contained, but has " + m.group() + " at " + m.start());
        }
        Matcher fetches = Pattern.compile("fetch\\(([^,)]*)").matcher(page);
        while (fetches.find()) {
            assertFalse(fetches.group(1).contains("//"), "fetch of another origin: " + fetches.group());
        }
    }

    @Test
    void pageCarriesTheHooksThatPageCheckReads() throws IOException {
        String page = page();
        for (String hook : List.of("id=\"updated\"", "data-updated-ms", "id=\"recent\"", "id=\"summary\"",
                "id=\"chart\"", "data-recoveries", "id=\"poll-error\"", "id=\"page\"", "dataset.channel",
                "dataset.peer", "dataset.poll", "\"status?offset=\"")) {
            assertTrue(page.contains(hook), "missing hook " + hook);
        }
    }
}
