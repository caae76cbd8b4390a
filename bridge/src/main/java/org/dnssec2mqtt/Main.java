package org.dnssec2mqtt;
public final class Main { public static void main(String[] a) {} }
