import { useEffect, useRef, useState } from "preact/hooks";

/**
 * A text field saved as it is typed (0.5 s after the last key, and at once on blur), that keeps what the user
 * is typing when the stored value changes underneath (a sync pulled another device's edit): the stored value
 * is shown again only while the field is not being edited.
 */
export function SavedText(props: {
  id: string;
  value: string;
  onSave: (value: string) => void;
  multiline?: boolean;
  maxLength?: number;
  testid?: string;
}) {
  const [text, setText] = useState(props.value);
  const editing = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (!editing.current) setText(props.value);
  }, [props.value]);
  const flush = (value: string) => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    if (value !== props.value) props.onSave(value);
  };
  const onInput = (e: Event) => {
    const value = (e.currentTarget as HTMLInputElement).value;
    editing.current = true;
    setText(value);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => flush(value), 500);
  };
  const onBlur = () => {
    flush(text);
    editing.current = false;
  };
  // Leaving the screen (back, another tab, the app to the background) saves what is pending: nothing typed is
  // lost to the half-second wait.
  const latest = useRef({ text, value: props.value, onSave: props.onSave });
  latest.current = { text, value: props.value, onSave: props.onSave };
  useEffect(() => {
    const save = () => {
      if (!timer.current) return;
      clearTimeout(timer.current);
      timer.current = null;
      if (latest.current.text !== latest.current.value) latest.current.onSave(latest.current.text);
    };
    const hidden = () => document.visibilityState === "hidden" && save();
    window.addEventListener("pagehide", save);
    document.addEventListener("visibilitychange", hidden);
    return () => {
      window.removeEventListener("pagehide", save);
      document.removeEventListener("visibilitychange", hidden);
      save();
    };
  }, []);
  const common = { id: props.id, value: text, onInput, onBlur, maxLength: props.maxLength, "data-testid": props.testid };
  return props.multiline ? <textarea {...common} /> : <input {...common} />;
}
