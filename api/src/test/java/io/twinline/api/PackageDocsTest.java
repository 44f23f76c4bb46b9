package io.twinline.api;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.module.ModuleDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Every exported package has a package-info.java with a javadoc comment. Neither javac's doclint nor javadoc's
 * notices a package that has no package-info.java at all, so this test does.
 */
class PackageDocsTest {

    @Test
    void everyExportedPackageHasADocumentedPackageInfo() throws IOException {
        ModuleDescriptor module = Twinline.class.getModule().getDescriptor();
        assertNotNull(module, "the tests run in the module io.twinline.api");
        assertFalse(module.exports().isEmpty());
        for (ModuleDescriptor.Exports export : module.exports()) {
            Path info = Path.of("src/main/java", export.source().replace('.', '/'), "package-info.java");
            assertTrue(Files.exists(info), "no " + info);
            String text = Files.readString(info);
            assertTrue(text.indexOf("/**") >= 0 && text.indexOf("/**") < text.indexOf("package " + export.source()),
                    info + " has no javadoc comment before its package declaration");
        }
    }
}
