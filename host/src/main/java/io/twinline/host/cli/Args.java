package io.twinline.host.cli;

import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code --name value}, {@code --name=value}, {@code --flag} and {@code --flag=BOOLEAN} options, checked against what a
 * command accepts.
 */
final class Args {
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flags = new HashSet<>();

    /**
     * @param valued options that take a value
     * @param flagNames options that take none
     * @throws UsageException for an unknown option, a missing value, a flag's value that is not a boolean, or a stray
     *         argument
     */
    Args(List<String> args, Set<String> valued, Set<String> flagNames) throws UsageException {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--")) {
                throw new UsageException("unexpected argument '" + a + "'");
            }
            String name = a.substring(2);
            String inline = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                inline = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flagNames.contains(name)) {
                if (inline == null || bool(name, inline)) {
                    flags.add(name);
                } else {
                    flags.remove(name);
                }
            } else if (valued.contains(name)) {
                if (inline == null) {
                    if (i + 1 >= args.size()) {
                        throw new UsageException("option --" + name + " needs a value");
                    }
                    inline = args.get(++i);
                }
                values.put(name, inline);
            } else {
                throw new UsageException("unknown option --" + name);
            }
        }
    }

    /** A flag's {@code =value}: true, yes, on or false, no, off, in any case. */
    private static boolean bool(String name, String value) throws UsageException {
        return switch (value.toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new UsageException("--" + name
                    + " takes no value, or one of true, false, yes, no, on, off: " + value);
        };
    }

    boolean flag(String name) {
        return flags.contains(name);
    }

    String text(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    long number(String name, long fallback, long min, long max) throws UsageException {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            long n = Long.parseLong(v.replace("_", ""));
            if (n < min || n > max) {
                throw new UsageException("--" + name + " must be within " + min + ".." + max + ": " + v);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a number: " + v);
        }
    }

    int integer(String name, int fallback, int min, int max) throws UsageException {
        return (int) number(name, fallback, min, max);
    }

    /** Parses {@code HOST:PORT} ({@code [v6addr]:PORT} for IPv6). */
    static InetSocketAddress hostPort(String option, String value) throws UsageException {
        return hostPort(option, value, 1);
    }

    /** As {@link #hostPort(String, String)}, with the lowest port allowed: 0 (any free port) for a listener. */
    static InetSocketAddress hostPort(String option, String value, int lowestPort) throws UsageException {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new UsageException("--" + option + " must be HOST:PORT: " + value);
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < lowestPort || port > 65535) {
                throw new UsageException("--" + option + " port must be within " + lowestPort + "..65535: " + value);
            }
            return InetSocketAddress.createUnresolved(host, port);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + option + " must be HOST:PORT: " + value);
        }
    }
}
