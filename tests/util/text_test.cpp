#include "util/text.hpp"

#include <cstdlib>
#include <gtest/gtest.h>

using gt::util::env_or;
using gt::util::shell_word;

TEST(Text, ShellWordsArePlainOrSingleQuoted) {
    EXPECT_EQ(shell_word("/home/u/town-1"), "/home/u/town-1");
    EXPECT_EQ(shell_word("/home/u/my town"), "'/home/u/my town'");
    EXPECT_EQ(shell_word("/a'b $(id)"), "'/a'\\''b $(id)'");
    EXPECT_EQ(shell_word(""), "''");
}

TEST(Text, AnUnsetOrEmptyVariableGivesTheFallback) {
    ::unsetenv("GT_TEXT_TEST");
    EXPECT_EQ(env_or("GT_TEXT_TEST", "x"), "x");
    ::setenv("GT_TEXT_TEST", "", 1);
    EXPECT_EQ(env_or("GT_TEXT_TEST", "x"), "x");
    ::setenv("GT_TEXT_TEST", "v", 1);
    EXPECT_EQ(env_or("GT_TEXT_TEST", "x"), "v");
    ::unsetenv("GT_TEXT_TEST");
}
