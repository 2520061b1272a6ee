import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, errorText } from '../../api/client.ts';
import type { Dashboard, Percentiles } from '../../api/types.ts';
import { EChart, echarts, type EChartsOption } from '../../charts/EChart.tsx';
import { LangSwitch } from '../../components/LangSwitch.tsx';
import { LiveIndicator } from '../../components/LiveIndicator.tsx';
import { useNames } from '../../config/ConfigContext.tsx';
import { useI18n } from '../../i18n/i18n.tsx';
import basemap from '../../map/basemap/jian-basemap.json';
import { useCity, useStoreVersion } from '../../store/CityContext.tsx';
import { agencyColor, priorityColor } from '../../util/colors.ts';
import { formatMinutes, formatTime } from '../../util/format.ts';
import { useNow } from '../../util/hooks.ts';
import { isActive } from '../../util/incidents.ts';
import { navigate } from '../../util/router.ts';

/** The dashboard refetches at most this often however busy the city is; the figures are aggregates. */
const REFRESH_MIN_MS = 1500;
const REFRESH_IDLE_MS = 15_000;

const registered = new Set<string>();
const WATER = new Set(['river', 'island']);

/** The bundled Ji'an outline as an ECharts map, named in the reader's language; returns the water areas' names. */
function registerJianMap(lang: 'zh' | 'en'): { map: string; water: string[] } {
  const areas = (basemap as GeoJSON.FeatureCollection).features.filter((f) => f.geometry.type === 'Polygon' && f.properties?.kind !== 'urban');
  const named = areas.map((f) => ({ ...f, properties: { ...f.properties, name: lang === 'zh' ? f.properties?.name : f.properties?.nameEn } }));
  const map = `jian-${lang}`;
  if (!registered.has(map)) {
    echarts.registerMap(map, { type: 'FeatureCollection', features: named } as never);
    registered.add(map);
  }
  return { map, water: named.filter((f) => WATER.has(String((f.properties as Record<string, unknown>).kind))).map((f) => String(f.properties.name)) };
}

function useDashboard(): { data: Dashboard | null; error: string | null; updatedAt: number | null } {
  const city = useCity();
  const [data, setData] = useState<Dashboard | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);

  useEffect(() => {
    let alive = true;
    let inFlight = false;
    let again = false;
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = async () => {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      last = Date.now();
      try {
        const d = await api.get<Dashboard>('/api/dashboard');
        if (alive) {
          setData(d);
          setError(null);
          setUpdatedAt(Date.now());
        }
      } catch (e) {
        if (alive) setError(errorText(e));
      } finally {
        inFlight = false;
        if (again && alive) {
          again = false;
          schedule();
        }
      }
    };
    // Coalesces a burst of live changes into one refetch, at most every REFRESH_MIN_MS.
    const schedule = () => {
      if (timer || !alive) return;
      timer = setTimeout(() => {
        timer = null;
        void load();
      }, Math.max(0, last + REFRESH_MIN_MS - Date.now()));
    };
    void load();
    const off = city.onChange(schedule);
    const offReset = city.store.subscribe((c) => c.all && schedule());
    const idle = setInterval(schedule, REFRESH_IDLE_MS);
    return () => {
      alive = false;
      off();
      offReset();
      clearInterval(idle);
      if (timer) clearTimeout(timer);
    };
  }, [city]);

  return { data, error, updatedAt };
}

function openTotal(d: Dashboard): number {
  if (typeof d.open.total === 'number') return d.open.total;
  // An incident needing three agencies counts once per agency, but once per priority.
  return Object.values(d.open.byPriority).reduce((a, b) => a + b, 0);
}

export default function DashboardView({ bigscreen }: { bigscreen: boolean }) {
  const { t, tx, locale, lang } = useI18n();
  const names = useNames();
  const { data, error, updatedAt } = useDashboard();
  const { store } = useCity();
  const version = useStoreVersion(2000);
  const now = useNow(1000);
  const dark = bigscreen;
  const text = dark ? '#cfe3ff' : '#1f2937';
  const axis = dark ? '#3a5a80' : '#cbd5e1';

  useEffect(() => {
    if (!bigscreen) return;
    // Full screen needs a user gesture; the button that led here was one, a reload is not.
    document.documentElement.requestFullscreen?.().catch(() => undefined);
    return () => {
      if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
    };
  }, [bigscreen]);

  const byAgency = useMemo<EChartsOption>(() => {
    const ids = names.agencies.map((a) => a.id);
    return {
      animationDuration: 300,
      backgroundColor: 'transparent',
      grid: { left: 8, right: 16, top: 16, bottom: 8 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'value', minInterval: 1, axisLabel: { color: text }, splitLine: { lineStyle: { color: axis } } },
      yAxis: { type: 'category', data: ids.map((id) => names.agency(id)), inverse: true, axisLabel: { color: text } },
      series: [
        {
          type: 'bar',
          name: t('dash.open'),
          data: ids.map((id) => ({ value: data?.open.byAgency[id] ?? 0, itemStyle: { color: agencyColor(id), borderRadius: [0, 4, 4, 0] } })),
          label: { show: true, position: 'right', color: text },
        },
      ],
    };
  }, [data, names, t, text, axis]);

  const byPriority = useMemo<EChartsOption>(
    () => ({
      animationDuration: 300,
      backgroundColor: 'transparent',
      tooltip: { trigger: 'item' },
      legend: { bottom: 0, textStyle: { color: text } },
      series: [
        {
          type: 'pie',
          radius: ['45%', '72%'],
          center: ['50%', '45%'],
          label: { color: text, formatter: (p: { data: { short: string }; value: number }) => `${p.data.short}: ${p.value}` },
          data: names.priorities.map((p) => ({ short: `P${p}`, name: `P${p} ${tx(`priority.${p}`)}`, value: data?.open.byPriority[String(p)] ?? 0, itemStyle: { color: priorityColor(p) } })),
        },
      ],
    }),
    [data, names, tx, text],
  );

  const responseTimes = useMemo<EChartsOption>(() => {
    const k = data?.kpis;
    const rows: [string, Percentiles | undefined][] = [
      [t('dash.toDispatch'), k?.receivedToDispatch],
      [t('dash.toOnScene'), k?.receivedToOnScene],
      [t('dash.toResolved'), k?.receivedToResolved],
    ];
    const mins = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round((v / 60) * 10) / 10);
    return {
      animationDuration: 300,
      backgroundColor: 'transparent',
      tooltip: { trigger: 'axis' },
      legend: { top: 0, textStyle: { color: text } },
      grid: { left: 8, right: 16, top: 32, bottom: 8 },
      xAxis: { type: 'category', data: rows.map((r) => r[0]), axisLabel: { color: text } },
      yAxis: { type: 'value', axisLabel: { color: text }, splitLine: { lineStyle: { color: axis } } },
      series: [
        { type: 'bar', name: t('dash.median'), data: rows.map((r) => mins(r[1]?.p50)), itemStyle: { color: '#3b82f6' }, label: { show: true, position: 'top', color: text } },
        { type: 'bar', name: t('dash.p90'), data: rows.map((r) => mins(r[1]?.p90)), itemStyle: { color: '#f59e0b' }, label: { show: true, position: 'top', color: text } },
      ],
    };
  }, [data, t, text, axis]);

  const byType = useMemo<EChartsOption>(() => {
    const entries = Object.entries(data?.countsByType ?? {}).sort((a, b) => b[1] - a[1]);
    return {
      animationDuration: 300,
      backgroundColor: 'transparent',
      tooltip: { trigger: 'axis' },
      grid: { left: 8, right: 24, top: 8, bottom: 8 },
      xAxis: { type: 'value', minInterval: 1, axisLabel: { color: text }, splitLine: { lineStyle: { color: axis } } },
      yAxis: { type: 'category', inverse: true, data: entries.map(([id]) => names.type(id)), axisLabel: { color: text } },
      series: [{ type: 'bar', data: entries.map(([, n]) => n), itemStyle: { color: dark ? '#38bdf8' : '#0ea5e9', borderRadius: [0, 4, 4, 0] }, label: { show: true, position: 'right', color: text } }],
    };
  }, [data, names, text, axis, dark]);

  const heat = useMemo<EChartsOption>(() => {
    const { map, water } = registerJianMap(lang);
    const points: [number, number, number][] = [];
    for (const i of store.incidents.values()) if (isActive(i)) points.push([i.location.lng, i.location.lat, 6 - i.priority]);
    return {
      animation: false,
      backgroundColor: 'transparent',
      geo: {
        map,
        roam: true,
        center: [114.99, 27.11],
        zoom: 1.7,
        itemStyle: { areaColor: dark ? '#13243a' : '#f4f1e8', borderColor: dark ? '#2d6da5' : '#a8a08a' },
        emphasis: { disabled: true },
        label: { show: true, color: dark ? '#6f8fb3' : '#8a7f66', fontSize: bigscreen ? 14 : 11 },
        regions: water.map((name) => ({ name, itemStyle: { areaColor: dark ? '#1d4e79' : '#9cc7e6', borderColor: dark ? '#2d6da5' : '#6fa8d6' }, label: { show: false } })),
      },
      visualMap: { show: false, min: 0, max: 4, calculable: false, inRange: { color: ['#3b82f6', '#22c55e', '#facc15', '#f97316', '#dc2626'] } },
      series: [{ type: 'heatmap', coordinateSystem: 'geo', data: points, pointSize: bigscreen ? 16 : 12, blurSize: bigscreen ? 24 : 18 }],
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [store, version, dark, bigscreen, lang]);

  const kpis = data?.kpis;
  const units = data?.units;
  const busyShare = units && units.available + units.busy > 0 ? Math.round((units.busy / (units.available + units.busy)) * 100) : null;

  return (
    <div className={`dash ${bigscreen ? 'dash--big' : ''}`} data-testid="dashboard-view" data-loaded={data ? 'true' : 'false'}>
      <header className="dash__head">
        <h2>{bigscreen ? `${t('app.title')} · ${t('dash.title')}` : t('dash.title')}</h2>
        <div className="dash__meta">
          {bigscreen && <LiveIndicator />}
          {bigscreen && <span className="dash__clock">{formatTime(new Date(now).toISOString(), locale, true)}</span>}
          {updatedAt && <span className="muted">{t('dash.updated', { t: formatTime(new Date(updatedAt).toISOString(), locale) })}</span>}
          {bigscreen && <LangSwitch />}
          <button className="btn" data-testid="bigscreen-toggle" onClick={() => navigate(bigscreen ? '/dashboard' : '/bigscreen')}>
            {bigscreen ? t('dash.exitBigscreen') : t('dash.bigscreen')}
          </button>
        </div>
      </header>
      {error && <p className="cbd-error">{error}</p>}
      <div className="kpis" data-testid="kpis">
        <Kpi testId="kpi-open" label={t('dash.open')} value={data ? openTotal(data) : null} display={data ? String(openTotal(data)) : '—'} accent="#ef4444" />
        <KpiP testId="kpi-dispatch" label={t('dash.toDispatch')} p={kpis?.receivedToDispatch} />
        <KpiP testId="kpi-onscene" label={t('dash.toOnScene')} p={kpis?.receivedToOnScene} />
        <KpiP testId="kpi-resolved" label={t('dash.toResolved')} p={kpis?.receivedToResolved} />
        <Kpi testId="kpi-units-available" label={t('dash.unitsAvailable')} value={units?.available ?? null} display={units ? String(units.available) : '—'} accent="#22c55e" />
        <Kpi testId="kpi-units-busy" label={t('dash.unitsBusy')} value={units?.busy ?? null} display={units ? String(units.busy) : '—'} accent="#f59e0b" sub={busyShare !== null ? `${t('dash.utilisation')} ${busyShare}%` : undefined} />
        <Kpi testId="kpi-units-out" label={t('dash.unitsOut')} value={units?.outOfService ?? null} display={units ? String(units.outOfService) : '—'} accent="#94a3b8" />
      </div>
      <div className="dash__grid">
        <Panel title={t('dash.byAgency')} className="p-agency">
          <EChart option={byAgency} testId="chart-by-agency" />
          <DataTable testId="table-by-agency" rows={names.agencies.map((a) => [a.id, names.agency(a.id), data?.open.byAgency[a.id] ?? 0])} />
        </Panel>
        <Panel title={t('dash.heatmap')} className="p-heat">
          <EChart option={heat} testId="chart-heatmap" />
        </Panel>
        <Panel title={t('dash.byPriority')} className="p-priority">
          <EChart option={byPriority} testId="chart-by-priority" />
          <DataTable testId="table-by-priority" rows={names.priorities.map((p) => [String(p), `P${p}`, data?.open.byPriority[String(p)] ?? 0])} />
        </Panel>
        <Panel title={t('dash.responseTimes')} className="p-times">
          <EChart option={responseTimes} testId="chart-response-times" />
        </Panel>
        <Panel title={t('dash.byType')} className="p-type">
          <EChart option={byType} testId="chart-by-type" />
          <DataTable testId="table-by-type" rows={Object.entries(data?.countsByType ?? {}).map(([id, n]) => [id, names.type(id), n])} />
        </Panel>
      </div>
    </div>
  );
}

/** Charts are pictures; the same figures as a table for screen readers (and for tests to read). */
function DataTable({ rows, testId }: { rows: [string, string, number][]; testId: string }) {
  return (
    <table className="sr-only" data-testid={testId}>
      <tbody>
        {rows.map(([id, name, n]) => (
          <tr key={id} data-key={id} data-value={n}>
            <th scope="row">{name}</th>
            <td>{n}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Panel({ title, className, children }: { title: string; className?: string; children: ReactNode }) {
  return (
    <section className={`dpanel ${className ?? ''}`}>
      <h3>{title}</h3>
      <div className="dpanel__body">{children}</div>
    </section>
  );
}

function Kpi({ testId, label, value, display, accent, sub }: { testId: string; label: string; value: number | null; display: string; accent: string; sub?: string }) {
  return (
    <div className="kpi" data-testid={testId} data-value={value ?? ''} style={{ borderTopColor: accent }}>
      <div className="kpi__label">{label}</div>
      <div className="kpi__value">{display}</div>
      {sub && <div className="kpi__sub">{sub}</div>}
    </div>
  );
}

function KpiP({ testId, label, p }: { testId: string; label: string; p: Percentiles | undefined }) {
  const { t } = useI18n();
  return (
    <div className="kpi kpi--p" data-testid={testId} data-p50={p?.p50 ?? ''} data-p90={p?.p90 ?? ''} data-n={p?.n ?? ''} style={{ borderTopColor: '#3b82f6' }}>
      <div className="kpi__label">{label}</div>
      <div className="kpi__value">
        <span data-testid={`${testId}-p50`}>{formatMinutes(p?.p50)}</span>
        <small> {t('dash.median')}</small>
      </div>
      <div className="kpi__sub">
        {t('dash.p90')} <span data-testid={`${testId}-p90`}>{formatMinutes(p?.p90)}</span> · {t('dash.samples', { n: p?.n ?? 0 })}
      </div>
    </div>
  );
}
