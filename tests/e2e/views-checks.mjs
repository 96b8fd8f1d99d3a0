// Measurements views.mjs takes in the page: where the keyboard's focus goes
// and whether it is visible, and what the waveform's canvas really shows.

// Tabs from the top of the page through up to `max` controls; for each, what
// it is and how its focus is drawn (outline or box-shadow).
export async function focusWalk(page, max) {
  // From the top: a focus start point before everything (not itself in the tab order).
  await page.evaluate(() => {
    const start = document.createElement('span');
    start.tabIndex = -1;
    start.id = 'e2e-focus-start';
    document.body.prepend(start);
    start.focus();
    window.scrollTo(0, 0);
  });
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const info = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return null;
      const style = getComputedStyle(e);
      return {
        key: `${e.tagName}#${e.id}.${e.className}|${e.dataset.op || e.dataset.action || ''}|` +
            `${(e.textContent || '').trim().slice(0, 30)}|${e.getAttribute('name') || ''}|${
                 e.value || ''}`,
        tag: e.tagName.toLowerCase(),
        text: (e.getAttribute('aria-label') || e.textContent || e.value || '').trim().slice(0, 40),
        outlineStyle: style.outlineStyle,
        outlineWidth: parseFloat(style.outlineWidth) || 0,
        outlineColor: style.outlineColor,
        focusVisible: e.matches(':focus-visible'),
      };
    });
    if (!info || seen.some((s) => s.key === info.key)) break;  // wrapped round
    seen.push(info);
  }
  await page.evaluate(() => document.getElementById('e2e-focus-start')?.remove());
  return seen;
}

// The waveform as drawn: the shaded runs of columns on the canvas's top row
// (above the lanes, where only the pause shading is painted), each lane's
// drawn height per column, the labels, marks and duration.
export async function waveformCheck(page) {
  await page.waitForSelector('#waveform[data-ready=true]', {timeout: 10000});
  return page.evaluate(() => {
    const canvas = document.getElementById('wave-canvas');
    const {width, height} = canvas;
    const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
    const at = (x, y) => data.subarray((y * width + x) * 4, (y * width + x) * 4 + 4);
    const shaded = (p) => p[3] > 40 && p[0] > 200 && p[1] > 150 && p[2] < 160;
    const cut = (p) => p[3] > 100 && p[0] > 180 && p[1] < 90 && p[2] < 90;
    const runsOf = (test) => {
      const runs = [];
      let start = -1;
      for (let x = 0; x <= width; x++) {
        const on = x < width && test(at(x, 1));
        if (on && start < 0) start = x;
        if (!on && start >= 0) {
          runs.push([start, x]);
          start = -1;
        }
      }
      return runs;
    };
    // Lane pixels: the customer's blue above, the agent's green below.
    const blue = (p) => p[3] > 200 && p[2] > 150 && p[0] < 80;
    const green = (p) => p[3] > 200 && p[1] > 90 && p[0] < 60 && p[2] < 60;
    const lanes = {customer: [], agent: []};
    for (let x = 0; x < width; x++) {
      let c = 0;
      let a = 0;
      for (let y = 0; y < height; y++) {
        const p = at(x, y);
        if (y < height / 2 && blue(p)) c++;
        if (y >= height / 2 && green(p)) a++;
      }
      lanes.customer.push(c);
      lanes.agent.push(a);
    }
    const box = canvas.getBoundingClientRect();
    const share = (el) => (el.getBoundingClientRect().left - box.left) / box.width;
    return {
      width,
      height,
      duration: Number(document.getElementById('waveform').dataset.duration),
      shadedRuns: runsOf(shaded),
      cutRuns: runsOf(cut),
      lanes,
      labels: [...document.querySelectorAll('.wave-pause')].map((el) => ({
                                                                  text: el.textContent,
                                                                  kind: el.dataset.kind,
                                                                  start: Number(el.dataset.start),
                                                                  end: Number(el.dataset.end),
                                                                  share: share(el)
                                                                })),
      marks: [...document.querySelectorAll('.wave-mark')].map((el) => ({
                                                                operation: el.dataset.operation,
                                                                offset: Number(el.dataset.offset),
                                                                share: share(el)
                                                              })),
    };
  });
}
