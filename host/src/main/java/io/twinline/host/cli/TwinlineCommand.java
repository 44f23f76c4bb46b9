package io.twinline.host.cli; public final class TwinlineCommand { public static void main(String[] a) {} }
