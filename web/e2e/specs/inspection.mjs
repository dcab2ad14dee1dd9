// Browser tests of the inspection page (being written).
export default function inspection() {}
