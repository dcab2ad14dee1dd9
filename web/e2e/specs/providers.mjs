// Browser tests of the providers page (being written).
export default function providers() {}
