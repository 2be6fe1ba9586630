// The dashboard's charts (审核质量): Chart.js, bundled by build.mjs into charts.js and served by
// the binary at /dashboard/charts.js, so the dashboard draws them with no CDN.
import Chart from 'chart.js/auto';

window.Chart = Chart;
