/*
 * bootstraps.c — the node and python runtimes (src/functions/runtime/), embedded in
 * the binary with the assembler's .incbin, so ferry runs functions with nothing
 * installed besides node and python themselves. The Makefile makes this object
 * depend on the two files (the compiler's dependency list does not see .incbin).
 */
#include <stddef.h>

#include "functions/fn_int.h"

__asm__(".section .rodata\n"
        ".global fn_boot_node\n"
        ".type fn_boot_node, @object\n"
        "fn_boot_node:\n"
        ".incbin \"src/functions/runtime/bootstrap.js\"\n"
        "fn_boot_node_end:\n"
        ".byte 0\n"
        ".global fn_boot_python\n"
        ".type fn_boot_python, @object\n"
        "fn_boot_python:\n"
        ".incbin \"src/functions/runtime/bootstrap.py\"\n"
        "fn_boot_python_end:\n"
        ".byte 0\n"
        ".balign 8\n"
        ".global fn_boot_node_len\n"
        "fn_boot_node_len:\n"
        ".quad fn_boot_node_end - fn_boot_node\n"
        ".global fn_boot_python_len\n"
        "fn_boot_python_len:\n"
        ".quad fn_boot_python_end - fn_boot_python\n"
        ".text\n");
