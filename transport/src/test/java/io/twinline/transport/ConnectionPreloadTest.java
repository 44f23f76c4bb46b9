package io.twinline.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link Connection#preloadClasses}: what a virtual thread would otherwise load on first use, holding its carrier. */
class ConnectionPreloadTest {
    static final List<String> initialized = new ArrayList<>();

    static final class Outer {
        static {
            initialized.add("Outer");
        }

        static final class Nested {
            static {
                initialized.add("Nested");
            }

            private static final class Deeper {
                static {
                    initialized.add("Deeper");
                }
            }
        }

        static Object anonymous() {
            return new Object() {
                static {
                    initialized.add("Anonymous");
                }
            };
        }

        /** javac compiles this switch to a lookup in a holder class of its own, {@code ConnectionPreloadTest$1}. */
        static int code(Shade shade) {
            switch (shade) {
                case LIGHT:
                    return 1;
                case DARK:
                    return 2;
                default:
                    return 0;
            }
        }
    }

    @Test
    void aPreloadedClassHasItsWholeNestInitialized() {
        assertTrue(initialized.isEmpty(), "nothing initialized before the preload");
        Connection.preloadClasses(Outer.class);
        // Shade is another class's nest: initialized here only by the holder of Outer's switch map, which reads
        // Shade.values() in its initializer.
        assertEquals(Set.of("Outer", "Nested", "Deeper", "Anonymous", "Shade"), Set.copyOf(initialized));
    }
}

/** An enum outside the test's nest, switched on by {@link ConnectionPreloadTest.Outer#code}. */
enum Shade {
    LIGHT, DARK;

    static {
        ConnectionPreloadTest.initialized.add("Shade");
    }
}
