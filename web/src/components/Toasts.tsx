import { useCallback, useMemo, useRef, useState } from 'react';

export type ToastKind = 'success' | 'error' | 'conflict' | 'info';
export interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
}

export interface ToastApi {
  list: Toast[];
  push(kind: ToastKind, text: string): void;
  dismiss(id: number): void;
}

export function useToasts(): ToastApi {
  const [list, setList] = useState<Toast[]>([]);
  const seq = useRef(0);
  const dismiss = useCallback((id: number) => setList((l) => l.filter((t) => t.id !== id)), []);
  const push = useCallback(
    (kind: ToastKind, text: string) => {
      const toast = { id: ++seq.current, kind, text };
      setList((l) => [...l.slice(-3), toast]);
      // Errors stay until read; good news fades.
      if (kind === 'success' || kind === 'info') setTimeout(() => dismiss(toast.id), 5000);
    },
    [dismiss],
  );
  return useMemo(() => ({ list, push, dismiss }), [list, push, dismiss]);
}

export function Toasts({ toasts, onDismiss }: { toasts: Toast[]; onDismiss: (id: number) => void }) {
  if (!toasts.length) return null;
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast--${t.kind}`} data-testid={`toast-${t.kind}`} role={t.kind === 'error' || t.kind === 'conflict' ? 'alert' : 'status'}>
          <span>{t.text}</span>
          <button className="toast__x" aria-label="dismiss" onClick={() => onDismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
