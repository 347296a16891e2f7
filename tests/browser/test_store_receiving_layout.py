"""The purchase order receiving screen laid out for a phone (390x844) and a tablet (800x1280) in
real Chromium, in English and Turkish: no sideways scrolling, each line's "N still expected · M
received before" on one line, Counted/Damaged/Reason wide enough to tap and type in (the whole
width on a phone; Reason the whole width on a tablet), and no word broken in the middle."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser.test_store_flow import shoot, sign_in
from tests.services.inbound.helpers import purchase_order

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 390, "height": 844}, "tablet": {"width": 800, "height": 1280}}

# Every word of the lines' text: a word drawn on two lines (broken in the middle) has two rects.
BROKEN_WORDS = """
(root) => {
  const broken = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    for (const match of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const rects = [...range.getClientRects()].filter(r => r.width > 0);
      if (rects.length > 1) broken.push(match[0]);
    }
  }
  return broken;
}
"""

LINE_FACTS = """
(line) => {
  const meta = line.querySelector('.item-meta');
  const style = getComputedStyle(meta);
  const lineHeight = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.5;
  const box = line.getBoundingClientRect();
  const inner = box.width - parseFloat(getComputedStyle(line).paddingLeft) - parseFloat(getComputedStyle(line).paddingRight);
  const width = (sel) => line.querySelector(sel).getBoundingClientRect().width;
  return {metaLines: Math.round(meta.getBoundingClientRect().height / lineHeight), inner,
          count: width('input[name^="count-"]'), damaged: width('input[name^="damaged-"]'),
          reason: width('input[name^="reason-"]'), right: box.right};
}
"""


@pytest.fixture(params=[(size, lang) for size in SIZES for lang in ("en", "tr")], ids=lambda p: f"{p[0]}-{p[1]}")
def screen(request, browser, live_server):
    size, lang = request.param
    context = browser.new_context(viewport=SIZES[size], base_url=live_server, is_mobile=size == "phone",
                                  has_touch=True, locale="tr-TR" if lang == "tr" else "en-US")
    page = context.new_page()
    yield size, lang, page
    context.close()


def test_the_purchase_order_count_fits_phone_and_tablet(app, screen):
    size, lang, page = screen
    warehouse = factories.location("WH-01", name="Tuzla Warehouse", type="warehouse")
    factories.user("wendy", "staff", [warehouse])
    products = [factories.product("TSHIRT-NAVY-XXL", "8690000000017", name="Organic cotton T-shirt, navy blue, XXL"),
                factories.product("KITCHEN-TOWEL-SET-12", "8690000000024",
                                  name="Kitchen towels, waffle weave, set of twelve"),
                factories.product("CAP", "8690000000031", name="Cap")]
    po = purchase_order(warehouse, [(products[0], 1200), (products[1], 36), (products[2], 5)])

    sign_in(page, "wendy")
    page.wait_for_url("**/store/WH-01/")
    page.goto(f"/store/WH-01/receiving/purchase-orders/{po.id}")
    page.wait_for_selector("#inbound .finish-line")
    shoot(page, f"store-receiving-po-{size}-{lang}")

    viewport = SIZES[size]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport, "the page scrolls sideways"
    lines = page.locator("#inbound fieldset.finish-line")
    assert lines.count() == 3
    for i in range(3):
        facts = lines.nth(i).evaluate(LINE_FACTS)
        assert facts["metaLines"] == 1, (i, facts)
        assert facts["right"] <= viewport, (i, facts)
        if size == "phone":  # each field takes the whole width of the card
            for field in ("count", "damaged", "reason"):
                assert facts[field] >= 0.9 * facts["inner"], (field, facts)
        else:  # Counted and Damaged side by side, each wide enough; Reason the whole width
            assert facts["count"] >= 200 and facts["damaged"] >= 200, facts
            assert facts["reason"] >= 0.9 * facts["inner"], facts
        assert lines.nth(i).evaluate(BROKEN_WORDS) == [], i
