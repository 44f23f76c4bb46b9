package io.twinline.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Connection#preloadClasses}: classes a virtual thread would otherwise load, pinned, on first use. */
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
    }

    @Test
    void aPreloadedClassHasItsNestedAndAnonymousClassesInitializedToo() {
        assertTrue(initialized.isEmpty(), "nothing initialized before the preload");
        Connection.preloadClasses(Outer.class);
        assertEquals(List.of("Outer", "Nested", "Deeper", "Anonymous"), initialized);
    }
}
