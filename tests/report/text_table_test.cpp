#include "report/text_table.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace r50 {
namespace {

TEST(TextTable, AlignsNamesLeftAndFiguresRight) {
  TextTable table({"name", "value"});
  table.add_row({"a", "1.5"});
  table.add_row({"longer", "12"});
  EXPECT_EQ(table.str(), "name    value\na         1.5\nlonger     12\n");
}

// "±" is two bytes of UTF-8 but one column on a terminal.
TEST(TextTable, CountsColumnsNotBytes) {
  TextTable table({"x", "images/s"});
  table.add_row({"a", "1.0 ±2%"});
  EXPECT_EQ(table.str(), "x  images/s\na   1.0 ±2%\n");
}

TEST(TextTable, RefusesARowOfTheWrongWidth) {
  TextTable table({"a", "b"});
  EXPECT_THROW(table.add_row({"1"}), Error);
}

}  // namespace
}  // namespace r50
