import { PageHeader } from '../components/PageHeader';

export function Live() {
  return <PageHeader title="Live activity" lead="This page is being built." />;
}
